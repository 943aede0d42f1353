"""Cycles tells the domains above it what happens through blinker signals (pbvote/cycles/signals.py):
each receiver is connected once, whatever the number of apps, and acts in the sender's transaction."""
from __future__ import annotations

import weakref

import pytest
import sqlalchemy as sa
from conftest import count_rows

from pbvote import create_app
from pbvote.ballots.listeners import seal_when_voting_closes
from pbvote.ballots.models import Ballot
from pbvote.cycles import services as cycle_services
from pbvote.cycles.models import Budget
from pbvote.cycles.signals import budget_removing, budget_rule_changing, voting_closed
from pbvote.errors import Conflict
from pbvote.extensions import db
from pbvote.proposals.listeners import keep_budgets_with_proposals, keep_rules_that_count_groups


def receivers(signal) -> list:
    return [r() if isinstance(r, weakref.ref) else r for r in signal.receivers.values()]


def test_each_receiver_is_connected_once_however_many_apps_start(app, database_url):
    for _ in range(2):
        create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url})
    assert receivers(voting_closed) == [seal_when_voting_closes]
    assert receivers(budget_removing) == [keep_budgets_with_proposals]
    assert receivers(budget_rule_changing) == [keep_rules_that_count_groups]


def test_ending_voting_early_seals_the_cycle_in_the_same_transaction(voting_budget, make_user, cast):
    budget, projects = voting_budget()
    cast(make_user(verified=True), budget, [projects[0]])
    staff = make_user("staff")
    cycle_services.advance_phase(staff, budget.cycle)
    assert count_rows(Ballot, Ballot.participation_id.is_not(None)) == 0
    db.session.rollback()  # the phase change is undone, and the sealing with it
    assert count_rows(Ballot, Ballot.participation_id.is_not(None)) == 1
    cycle_services.advance_phase(staff, budget.cycle)
    db.session.commit()
    assert count_rows(Ballot, Ballot.participation_id.is_not(None)) == 0


def test_a_budget_that_proposals_ask_for_is_not_removed(make_cycle, make_proposal, make_user):
    cycle = make_cycle(budgets=[{"name": "City", "total_amount": 100_000_00}, {"name": "Spare", "total_amount": 1_000_00}])
    city, spare = cycle.budgets
    make_proposal(cycle, budget=city, status="submitted")
    staff = make_user("staff")
    with pytest.raises(Conflict, match="has proposals"):
        cycle_services.delete_budget(staff, city)
    cycle_services.delete_budget(staff, spare)
    db.session.commit()
    assert list(db.session.scalars(sa.select(Budget.name).where(Budget.cycle_id == cycle.id))) == ["City"]
