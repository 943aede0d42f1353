"""The ballot kinds registry: every ballot type has one kind that owns its rules, and nothing outside
``pbvote/ballots/kinds/`` branches on the ballot type."""
from __future__ import annotations

import ast
import random
import re
from pathlib import Path
from types import SimpleNamespace

import pytest

from pbvote.ballots.choices import BallotProposal, Choice
from pbvote.ballots.kinds import KINDS, kind_named
from pbvote.cycles import ballot_kinds
from pbvote.cycles.models import BallotType
from pbvote.errors import InvalidBallot, InvalidInput

PACKAGE = Path(__file__).resolve().parents[2] / "pbvote"
KINDS_DIR = PACKAGE / "ballots" / "kinds"


def test_every_ballot_type_has_one_registered_kind_that_cycles_sees():
    assert set(KINDS) == set(BallotType)
    assert [kind.type for kind in ballot_kinds.registered()] == list(BallotType)
    for ballot_type, kind in KINDS.items():
        assert ballot_kinds.kind_for(ballot_type.value) is kind and kind.type is ballot_type
        assert kind.vote_type in ("approval", "choose-1", "cumulative", "ordinal")
        assert str(kind.label) and str(kind.paper_syntax)


def _is_member(node: ast.AST) -> bool:
    """``BallotType.X``, or a string constant (or a tuple/list/set of them): a ballot type's value."""
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "BallotType":
        return True
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return True
    return isinstance(node, (ast.Tuple, ast.List, ast.Set)) and any(_is_member(e) for e in node.elts)


def _is_ballot_type(node: ast.AST) -> bool:
    return any(isinstance(sub, ast.Attribute) and sub.attr == "ballot_type" for sub in ast.walk(node))


def _compares_ballot_type(node: ast.AST) -> bool:
    """A comparison with a ballot type's member (``x == BallotType.RANKING``, ``kind in (...)``) or
    of a ``ballot_type`` with a value (``budget.ballot_type == "ranking"``)."""
    if not isinstance(node, ast.Compare):
        return False
    sides = [node.left, *node.comparators]
    if any(isinstance(s, ast.Attribute) and isinstance(s.value, ast.Name) and s.value.id == "BallotType" for s in sides):
        return True
    return any(_is_ballot_type(s) for s in sides) and any(_is_member(s) for s in sides)


def test_nothing_outside_the_kinds_package_branches_on_the_ballot_type():
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        if KINDS_DIR in path.parents:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        offenders += [f"{path.relative_to(PACKAGE)}:{n.lineno}" for n in ast.walk(tree) if _compares_ballot_type(n)]
    pattern = re.compile(r"ballot_type(\.value)?\s*(==|!=|\bin\b)|BallotType\.")
    for path in (PACKAGE / "templates").rglob("*.html"):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if pattern.search(line):
                offenders.append(f"templates/{path.relative_to(PACKAGE / 'templates')}:{number}")
    assert offenders == []


def _budget(ballot_type, **fields):
    values = {"total_amount": 100_000, "min_choices": 1, "max_choices": None, "min_spend_percent": 0,
              "points_total": None, "points_per_project": None, "ballot_type": BallotType(ballot_type)}
    values.update(fields)
    return SimpleNamespace(**values)


BUDGETS = [
    _budget("approval"),
    _budget("approval", max_choices=3, min_choices=2),
    _budget("knapsack", min_spend_percent=50),
    _budget("knapsack", max_choices=2),
    _budget("choose_one", max_choices=1),
    _budget("cumulative", points_total=10, points_per_project=4, min_choices=2),
    _budget("ranking", max_choices=3),
]
PROJECTS = tuple(BallotProposal(i, f"Project {i}", cost) for i, cost in
                 enumerate([20_000, 35_000, 50_000, 10_000, 60_000, 25_000], start=1))


@pytest.mark.parametrize("budget", BUDGETS, ids=lambda b: f"{b.ballot_type.value}")
def test_a_kinds_random_ballots_follow_its_own_rules(request_context, budget):
    kind = kind_named(budget.ballot_type)
    rng = random.Random(7)
    for _ in range(200):
        choices = kind.sample(rng, budget, PROJECTS)
        checked = kind.check_choices(budget, PROJECTS, choices)
        assert sorted(checked, key=lambda c: c.proposal_id) == sorted(choices, key=lambda c: c.proposal_id)
        ballot = kind.engine_ballot(checked)
        assert len(ballot.projects) == len(checked)


@pytest.mark.parametrize("budget", BUDGETS, ids=lambda b: f"{b.ballot_type.value}")
def test_a_paper_line_keyed_from_a_ballot_reads_back_as_that_ballot(request_context, budget):
    """Each kind's paper syntax: a sheet's choices written as the volunteer keys them (the printed
    numbers, points as number=points, ranks in order) read back as the same choices."""
    kind = kind_named(budget.ballot_type)
    printed = {number: p.id for number, p in enumerate(PROJECTS, start=1)}
    number_of = {pid: number for number, pid in printed.items()}
    rng = random.Random(11)
    for _ in range(50):
        choices = kind.check_choices(budget, PROJECTS, kind.sample(rng, budget, PROJECTS))
        if kind.ordered:
            line = " ".join(str(number_of[c.proposal_id]) for c in kind.receipt_order(choices))
        elif choices and choices[0].points is not None:
            line = ", ".join(f"{number_of[c.proposal_id]}={c.points}" for c in choices)
        else:
            line = ",".join(str(number_of[c.proposal_id]) for c in choices)
        assert kind.check_choices(budget, PROJECTS, kind.parse_paper(line, printed)) == choices


def test_an_unreadable_paper_line_says_which_part(request_context):
    printed = {1: 11, 2: 12}
    with pytest.raises(InvalidBallot, match="“9” is not the number of a project"):
        kind_named("approval").parse_paper("1 9", printed)
    with pytest.raises(InvalidBallot, match="number=points"):
        kind_named("cumulative").parse_paper("1=3 2", printed)
    assert kind_named("ranking").parse_paper("2 1", printed) == [Choice(12, rank=1), Choice(11, rank=2)]


def test_each_kind_checks_its_own_budget_settings(request_context):
    assert kind_named("choose_one").check_settings({"min_choices": 0, "max_choices": 5})["max_choices"] == 1
    with pytest.raises(InvalidInput) as ranking:
        kind_named("ranking").check_settings({"min_choices": 1})
    assert ranking.value.field == "max_choices"
    with pytest.raises(InvalidInput) as points:
        kind_named("cumulative").check_settings({"points_total": 5, "points_per_project": 6})
    assert points.value.field == "points_per_project"
    assert kind_named("approval").check_settings({"min_spend_percent": 40, "points_total": 9}) == {
        "min_choices": 0, "max_choices": None, "min_spend_percent": 0, "points_total": None, "points_per_project": None}
    assert kind_named("knapsack").check_settings({"min_spend_percent": 40})["min_spend_percent"] == 40
