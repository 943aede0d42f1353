"""Scenario helpers for voting tests: a cycle in its voting phase with projects, voters, casting."""
from __future__ import annotations

import pytest

from pbvote.ballots import services
from pbvote.ballots.services import Choice, Voter
from pbvote.cycles.models import BallotType
from pbvote.extensions import db


@pytest.fixture(autouse=True)
def request_context(app):
    """Services speak to people (translated messages): give them a request's locale."""
    with app.test_request_context("/", environ_base={"REMOTE_ADDR": "192.0.2.7"}):
        yield


@pytest.fixture
def voting_budget(make_cycle, make_proposal):
    """``voting_budget(ballot_type="knapsack", costs=[...], **budget_fields, cycle={...})`` →
    (budget, [proposals]) in a cycle whose voting phase is open."""

    def make(ballot_type: BallotType | str = BallotType.APPROVAL, costs=(30_000_00, 40_000_00, 50_000_00, 20_000_00),
             phase: str = "voting", cycle: dict | None = None, **budget_fields):
        spec = {"name": "City-wide", "total_amount": 100_000_00, "ballot_type": BallotType(ballot_type), "min_choices": 1}
        spec.update(budget_fields)
        c = make_cycle(phase, budgets=[spec], **(cycle or {}))
        budget = c.budgets[0]
        proposals = [make_proposal(c, cost=cost, budget=budget) for cost in costs]
        return budget, proposals

    return make


@pytest.fixture
def cast(app):
    """``cast(voter_user_or_code, budget, [ids or Choice], token=None)`` → CastResult, committed."""

    def do_cast(who, budget, choices, token: str | None = None, **kwargs):
        voter = who if isinstance(who, Voter) else Voter(user=who) if hasattr(who, "email") else Voter(code=who)
        picked = [c if isinstance(c, Choice) else Choice(getattr(c, "id", c)) for c in choices]
        result = services.cast_ballot(voter, budget, picked, token or services.new_submission_token(), **kwargs)
        db.session.commit()
        return result

    return do_cast


@pytest.fixture
def code_for(app, make_user):
    """``code_for(budget_or_district, cycle)`` → (AccessCode, clear code)."""

    def make(cycle, *, budget=None, district=None):
        staff = make_user("staff")
        _batch, codes = services.generate_access_codes(staff, cycle, count=1, budget=budget, district=district)
        db.session.commit()
        return services.find_access_code(codes[0]), codes[0]

    return make
