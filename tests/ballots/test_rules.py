"""The rule of each ballot type, checked by the service (the one place where rules live)."""
from __future__ import annotations

import pytest
from conftest import count_rows

from pbvote.ballots.models import Ballot, BallotChoice, Participation
from pbvote.ballots.services import Choice, check_choices
from pbvote.cycles.models import BallotType
from pbvote.errors import InvalidBallot


def refused(budget, proposals, choices, match):
    with pytest.raises(InvalidBallot, match=match):
        check_choices(budget, proposals, choices)


def test_approval_counts_between_min_and_max(voting_budget):
    budget, ps = voting_budget("approval", min_choices=1, max_choices=2)
    assert check_choices(budget, ps, [Choice(ps[1].id), Choice(ps[0].id)]) == [Choice(ps[0].id), Choice(ps[1].id)]
    refused(budget, ps, [], "at least 1 project")
    refused(budget, ps, [Choice(p.id) for p in ps[:3]], "at most 2 projects")


def test_knapsack_refuses_over_budget_and_under_minimum_spend(voting_budget):
    budget, ps = voting_budget("knapsack", costs=(60_000_00, 40_000_00, 10_000_00), min_spend_percent=50)
    assert len(check_choices(budget, ps, [Choice(ps[0].id), Choice(ps[1].id)])) == 2  # exactly the budget
    refused(budget, ps, [Choice(p.id) for p in ps], "cost more than the budget")
    refused(budget, ps, [Choice(ps[2].id)], "at least 50% of the budget")


def test_cumulative_caps_points_and_refuses_negative(voting_budget):
    budget, ps = voting_budget("cumulative", points_total=10, points_per_project=6)
    assert check_choices(budget, ps, [Choice(ps[0].id, points=6), Choice(ps[1].id, points=4), Choice(ps[2].id, points=0)]) == [
        Choice(ps[0].id, points=6),
        Choice(ps[1].id, points=4),
    ]
    refused(budget, ps, [Choice(ps[0].id, points=7)], "at most 6 points")
    refused(budget, ps, [Choice(ps[0].id, points=6), Choice(ps[1].id, points=5)], "only 10")
    refused(budget, ps, [Choice(ps[0].id, points=-1), Choice(ps[1].id, points=5)], "zero or more")


def test_ranking_needs_ranks_without_gaps_up_to_k(voting_budget):
    budget, ps = voting_budget("ranking", max_choices=2)
    assert check_choices(budget, ps, [Choice(ps[2].id, rank=1), Choice(ps[0].id, rank=2)]) == [
        Choice(ps[0].id, rank=2),
        Choice(ps[2].id, rank=1),
    ]
    refused(budget, ps, [Choice(ps[0].id, rank=1), Choice(ps[1].id, rank=1)], "one project only")
    refused(budget, ps, [Choice(ps[0].id, rank=1), Choice(ps[1].id, rank=3)], "without gaps")
    refused(budget, ps, [Choice(p.id, rank=i + 1) for i, p in enumerate(ps[:3])], "at most 2")
    refused(budget, ps, [Choice(ps[0].id, rank=0)], "start at 1")


def test_choose_one_needs_exactly_one(voting_budget):
    budget, ps = voting_budget("choose_one")
    assert check_choices(budget, ps, [Choice(ps[0].id)]) == [Choice(ps[0].id)]
    refused(budget, ps, [Choice(ps[0].id), Choice(ps[1].id)], "exactly one")
    refused(budget, ps, [], "exactly one")


@pytest.mark.parametrize("kind", list(BallotType))
def test_every_type_refuses_duplicates_and_projects_not_on_the_ballot(voting_budget, make_proposal, make_cycle, kind):
    budget, ps = voting_budget(kind, points_total=10, max_choices=3)
    other_cycle = make_cycle("voting")
    foreign = make_proposal(other_cycle)
    unfeasible = make_proposal(budget.cycle, budget=budget, status="submitted")
    value = {"points": 1} if kind == BallotType.CUMULATIVE else {"rank": 1} if kind == BallotType.RANKING else {}
    refused(budget, ps, [Choice(ps[0].id, **value), Choice(ps[0].id, **value)], "more than once")
    refused(budget, ps, [Choice(foreign.id, **value)], "not on this ballot")
    refused(budget, ps, [Choice(unfeasible.id, **value)], "not on this ballot")
    refused(budget, ps, [Choice(999_999, **value)], "not on this ballot")


def test_a_refused_cast_stores_nothing(voting_budget, make_user, cast):
    budget, ps = voting_budget("knapsack")
    voter = make_user(verified=True)
    with pytest.raises(InvalidBallot):
        cast(voter, budget, ps)  # 140,000 of 100,000
    from pbvote.extensions import db

    db.session.rollback()
    assert count_rows(Ballot) == count_rows(BallotChoice) == count_rows(Participation) == 0
    assert budget.frozen_at is None
