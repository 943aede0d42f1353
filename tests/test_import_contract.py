"""Domains import one way (docs/architecture.md): a lower layer never imports a higher one.

From the bottom up:

* ``tally`` — the pure engine (no Flask, no SQLAlchemy: tests/tally/test_tally_purity.py);
* the shared helpers — every module directly under ``pbvote/`` that is not named below as the
  composition root (``errors``, ``forms``, ``fields``, ``bounds``, ``audit``, ``db``, ``extensions``,
  ``timeutil``, ``templating``, ``unit_of_work``, ``config``, ...), and ``places`` (the districts):
  they import no domain;
* the domains ``auth`` < ``notifications`` < ``cycles`` < ``proposals`` < ``ballots`` < ``results``
  (notifications are sent by every domain above auth, so they sit just above it);
* the composition root: ``create_app`` (``pbvote/__init__.py``), the CLI, the demo loader, the
  list of every model (``pbvote.models``), the WSGI factory and the site pages (``pbvote.views``:
  the home page and a cycle's page show several domains).  They wire the domains together and may
  import every one of them; nothing imports them.

A module may import its own layer and the layers below.  Every import counts: at module level, in a
function, under ``if TYPE_CHECKING``, ``from pbvote import x``, relative ones.  When something below
must tell something above that it happened, it sends a signal (``pbvote/cycles/signals.py``) or asks
a hook registry (``pbvote/cycles/ballot_kinds.py``) that the higher domain fills.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

import pbvote

ROOT = Path(pbvote.__file__).resolve().parent

#: Layers, lowest first; a module may import its own layer and those before it.
LAYERS = ("tally", "shared", "auth", "notifications", "cycles", "proposals", "ballots", "results", "composition root")
DOMAINS = ("auth", "notifications", "cycles", "proposals", "ballots", "results")
#: Packages under pbvote/ below every domain besides the engine.
SHARED_PACKAGES = ("places",)
#: Modules that wire the domains together (may import all of them; nothing imports them).
COMPOSITION_ROOT = ("pbvote", "pbvote.cli", "pbvote.demo", "pbvote.models", "pbvote.views", "pbvote.wsgi",
                    "pbvote.tally_cli")


def module_name(path: Path, root: Path) -> str:
    parts = (root.name,) + path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer_of(module: str) -> str:
    """The layer of a module of the package (``pbvote.x.y``)."""
    if module in COMPOSITION_ROOT:
        return "composition root"
    parts = module.split(".")
    top = parts[1]
    if top == "tally":
        return "tally"
    if top in DOMAINS:
        return top
    if top in SHARED_PACKAGES or len(parts) == 2:
        return "shared"
    raise LookupError(f"{module}: a package under pbvote/ that no layer names (add it to this test)")


def imported_modules(path: Path, root: Path):
    """(line, module) for every import of the package in the file at ``path``, wherever it stands."""
    module = module_name(path, root)
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    prefix = root.name
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == prefix or alias.name.startswith(prefix + "."):
                    yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            if not (source == prefix or source.startswith(prefix + ".")):
                continue
            for alias in node.names:
                # ``from pbvote import audit`` imports the module pbvote.audit; ``from pbvote.x import
                # name`` imports pbvote.x (where name is an attribute, not a module of its own).
                candidate = f"{source}.{alias.name}"
                yield node.lineno, candidate if _is_module(candidate, root) else source


def _is_module(module: str, root: Path) -> bool:
    relative = Path(*module.split(".")[1:])
    return (root / relative).with_suffix(".py").is_file() or (root / relative / "__init__.py").is_file()


def violations(root: Path) -> list[str]:
    found = []
    for path in sorted(root.rglob("*.py")):
        source = module_name(path, root)
        source_layer = layer_of(source)
        for line, target in dict.fromkeys(imported_modules(path, root)):  # one line per module imported
            target_layer = layer_of(target)
            if LAYERS.index(target_layer) > LAYERS.index(source_layer):
                found.append(f"{path.relative_to(root.parent)}:{line}: {source} ({source_layer}) imports {target} "
                             f"({target_layer})")
    return found


def test_no_layer_imports_a_higher_one():
    assert violations(ROOT) == []


def test_every_module_of_the_package_belongs_to_a_layer():
    modules = [module_name(path, ROOT) for path in ROOT.rglob("*.py")]
    assert len(modules) > 50
    for module in modules:
        assert layer_of(module) in LAYERS


@pytest.mark.parametrize("source, where, text, expected", [
    ("cycles/services.py", "function", "from pbvote.ballots.services import seal_voter_links",
     "pbvote.cycles.services (cycles) imports pbvote.ballots.services (ballots)"),
    ("auth/views.py", "module", "from pbvote.cycles.models import District",
     "pbvote.auth.views (auth) imports pbvote.cycles.models (cycles)"),
    ("labels.py", "module", "from pbvote import proposals",
     "pbvote.labels (shared) imports pbvote.proposals (proposals)"),
    ("cycles/services.py", "module", "from ..results import services",
     "pbvote.cycles.services (cycles) imports pbvote.results.services (results)"),
    ("ballots/services/casting.py", "function", "from pbvote import create_app",
     "pbvote.ballots.services.casting (ballots) imports pbvote (composition root)"),
])
def test_the_check_finds_an_import_upwards_wherever_it_hides(tmp_path, source, where, text, expected):
    """A lower layer importing a higher one is reported with its file and line, even inside a function."""
    root = tmp_path / "pbvote"
    for name in ("__init__.py", "labels.py", "auth/__init__.py", "auth/views.py", "cycles/__init__.py",
                 "cycles/models.py", "cycles/services.py", "proposals/__init__.py", "ballots/__init__.py",
                 "ballots/services/__init__.py", "ballots/services/casting.py", "results/__init__.py",
                 "results/services.py"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text('"""A module."""\n', encoding="utf-8")
    body = f"{text}\n" if where == "module" else f"def later():\n    {text}\n"
    (root / source).write_text('"""A module."""\n' + body, encoding="utf-8")
    line = 2 if where == "module" else 3
    assert violations(root) == [f"pbvote/{source}:{line}: {expected}"]
    (root / source).write_text('"""A module."""\nfrom pbvote.errors import DomainError\n', encoding="utf-8")
    (root / "errors.py").write_text('"""Errors."""\n', encoding="utf-8")
    assert violations(root) == []
