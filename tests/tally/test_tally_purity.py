"""The tally engine stays pure: no web framework, no database."""

import ast
from pathlib import Path

import pbvote.tally

FORBIDDEN = ("flask", "sqlalchemy", "flask_sqlalchemy", "werkzeug")


def test_tally_package_never_imports_flask_or_sqlalchemy():
    root = Path(pbvote.tally.__file__).parent
    offenders = []
    files = sorted(root.rglob("*.py"))
    assert files, "no modules found"
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            for name in names:
                if name.split(".")[0] in FORBIDDEN:
                    offenders.append(f"{path.name}:{node.lineno} imports {name}")
    assert offenders == []


def test_cli_imports_only_the_engine_and_click():
    path = Path(pbvote.tally.__file__).parent.parent / "tally_cli.py"
    tops = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            tops.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            tops.add(node.module.split(".")[0])
    assert tops <= {"__future__", "json", "decimal", "click", "pbvote"}
