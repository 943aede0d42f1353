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
    assert tops <= {"__future__", "json", "decimal", "dataclasses", "click", "pbvote"}


NO_NUMPY = """
import json, sys
sys.modules["numpy"] = None  # import numpy now raises ImportError
from pbvote.tally import Ballot, Election, Project, run_rule
from pbvote.tally.mes import HAVE_BOUNDS
assert not HAVE_BOUNDS
e = Election(budget=70, projects=[Project(str(i), c) for i, c in enumerate([30, 30, 20, 20, 10, 25])],
             ballots=[Ballot(("0", "1"), None, 3), Ballot(("2", "3"), None, 3), Ballot(("4", "5"), None, 2)])
out = {c: [list(o.selected), [p.reason for p in o.projects]]
       for c in ("none", "add1", "add1+greedy") for o in [run_rule(e, "mes", completion=c)]}
print(json.dumps(out))
"""


def test_engine_runs_without_numpy_with_the_same_results():
    """numpy only makes MES faster: without it every run is exact, with the same outcome."""
    import json
    import os
    import subprocess
    import sys

    from pbvote.tally import Ballot, Election, Project, run_rule

    root = Path(pbvote.tally.__file__).parents[2]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")]))}
    res = subprocess.run([sys.executable, "-c", NO_NUMPY], env=env, capture_output=True, text=True, check=True)
    e = Election(budget=70, projects=[Project(str(i), c) for i, c in enumerate([30, 30, 20, 20, 10, 25])],
                 ballots=[Ballot(("0", "1"), None, 3), Ballot(("2", "3"), None, 3), Ballot(("4", "5"), None, 2)])
    here = {c: [list(o.selected), [p.reason for p in o.projects]]
            for c in ("none", "add1", "add1+greedy") for o in [run_rule(e, "mes", completion=c)]}
    assert json.loads(res.stdout) == here
