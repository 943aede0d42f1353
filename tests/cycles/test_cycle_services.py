"""Cycle configuration rules: phases, advancing, budgets with their ballot/tally rules, the freeze."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from pbvote.audit import AuditEntry
from pbvote.cycles import rules, services
from pbvote.cycles.models import BallotType, PhaseKind
from pbvote.errors import Conflict, InvalidInput, RulesFrozen
from pbvote.extensions import db
from pbvote.timeutil import utcnow

pytestmark = pytest.mark.usefixtures("request_ctx")


def actions():
    return [e.action for e in db.session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id))]


def test_create_cycle_validates_slug_and_audits(make_user):
    staff = make_user("staff")
    cycle = services.create_cycle(staff, slug="green-2028", name="Green 2028", currency="eur")
    assert cycle.currency == "EUR"
    assert "cycle.created" in actions()
    with pytest.raises(Conflict):
        services.create_cycle(staff, slug="green-2028", name="Again")
    with pytest.raises(InvalidInput) as error:
        services.create_cycle(staff, slug="Not a slug!", name="X")
    assert error.value.field == "slug"


def test_set_phases_requires_order_without_overlap(make_cycle, make_user):
    cycle = make_cycle()
    staff = make_user("staff")
    now = utcnow().replace(microsecond=0)
    day = timedelta(days=1)
    with pytest.raises(InvalidInput, match="must end after it starts"):
        services.set_phases(staff, cycle, {PhaseKind.SUBMISSION: (now, now - day)})
    with pytest.raises(InvalidInput, match="without overlapping"):
        services.set_phases(staff, cycle, {PhaseKind.SUBMISSION: (now, now + 5 * day),
                                           PhaseKind.VOTING: (now + 4 * day, now + 9 * day)})
    with pytest.raises(InvalidInput):
        services.set_phases(staff, cycle, {})
    # Review and results skipped.
    services.set_phases(staff, cycle, {PhaseKind.SUBMISSION: (now, now + 5 * day),
                                       PhaseKind.VOTING: (now + 5 * day, now + 9 * day),
                                       PhaseKind.IMPLEMENTATION: (now + 20 * day, now + 99 * day)})
    assert [p.kind for p in sorted(cycle.phases, key=lambda p: p.starts_at)] == [
        PhaseKind.SUBMISSION, PhaseKind.VOTING, PhaseKind.IMPLEMENTATION]
    assert actions()[-1] == "cycle.phases_set"


def test_advance_phase_starts_the_next_phase_now_and_audits(make_cycle, make_user):
    cycle = make_cycle("submission")
    staff = make_user("staff")
    assert cycle.is_in(PhaseKind.SUBMISSION)
    started = services.advance_phase(staff, cycle)
    assert started.kind == PhaseKind.REVIEW
    assert cycle.is_in(PhaseKind.REVIEW)
    assert actions()[-1] == "cycle.phase_advanced"


def test_advance_phase_refuses_after_the_last_phase(make_cycle, make_user):
    cycle = make_cycle("implementation")
    with pytest.raises(Conflict, match="no later phase"):
        services.advance_phase(make_user("staff"), cycle)


BASE = {"name": "North", "total_amount": 50_000_00}


@pytest.mark.parametrize("values, field", [
    ({"total_amount": 0}, "total_amount"),
    ({"ballot_type": BallotType.APPROVAL, "min_choices": 3, "max_choices": 2}, "max_choices"),
    ({"ballot_type": BallotType.KNAPSACK, "min_spend_percent": 120}, "min_spend_percent"),
    ({"ballot_type": BallotType.CUMULATIVE, "points_total": None, "points_per_project": 3}, "points_total"),
    ({"ballot_type": BallotType.CUMULATIVE, "points_total": 5, "points_per_project": 6}, "points_per_project"),
    ({"ballot_type": BallotType.RANKING, "max_choices": None}, "max_choices"),
    ({"tally_rule": "dictator"}, "tally_rule"),
    ({"tally_rule": "mes", "tally_params": {"completion": "magic"}}, "tally_params"),
])
def test_add_budget_rejects_invalid_rules(make_cycle, make_user, values, field):
    cycle = make_cycle()
    with pytest.raises(InvalidInput) as error:
        services.add_budget(make_user("staff"), cycle, **{**BASE, **values})
    assert error.value.field == field


def test_add_budget_normalises_each_ballot_rule(make_cycle, make_user):
    cycle = make_cycle()
    staff = make_user("staff")
    one = services.add_budget(staff, cycle, name="One", total_amount=1000, ballot_type="choose_one", min_choices=0)
    assert (one.min_choices, one.max_choices) == (1, 1)
    points = services.add_budget(staff, cycle, name="Points", total_amount=1000, ballot_type="cumulative",
                                 points_total=10, points_per_project=4, min_spend_percent=50)
    assert (points.points_total, points.points_per_project, points.min_spend_percent) == (10, 4, 0)
    ranking = services.add_budget(staff, cycle, name="Rank", total_amount=1000, ballot_type="ranking", max_choices=3)
    assert ranking.max_choices == 3
    knapsack = services.add_budget(staff, cycle, name="Knap", total_amount=1000, ballot_type="knapsack",
                                   min_spend_percent=60, tally_rule="mes",
                                   tally_params={"completion": "add1+greedy", "tie_break": "equalshares"})
    assert knapsack.min_spend_percent == 60
    assert knapsack.tally_params == {"utility": "approvals", "completion": "add1+greedy", "tie_break": "equalshares"}
    greedy = services.add_budget(staff, cycle, name="Greedy", total_amount=1000, tally_rule="greedy-per-cost",
                                 tally_params={"completion": "add1"})
    assert "completion" not in greedy.tally_params  # completion is MES only


def test_frozen_budget_refuses_rule_amount_and_tally_changes(make_cycle, make_user):
    cycle = make_cycle("voting")
    staff = make_user("staff")
    budget = cycle.budgets[0]
    budget.frozen_at = utcnow()
    db.session.flush()
    for change in ({"total_amount": 1}, {"ballot_type": BallotType.KNAPSACK}, {"max_choices": 3},
                   {"tally_rule": "mes"}, {"tally_params": {"tie_break": "equalshares"}}):
        with pytest.raises(RulesFrozen, match="first ballot"):
            services.update_budget(staff, budget, **change)
    with pytest.raises(RulesFrozen):
        services.delete_budget(staff, budget)
    with pytest.raises(RulesFrozen):
        services.add_budget(staff, cycle, name="Late", total_amount=1000)
    with pytest.raises(RulesFrozen):
        services.update_cycle(staff, cycle, minimum_age=16)
    services.update_budget(staff, budget, name="Renamed")  # the name is not a rule
    assert budget.name == "Renamed"


def test_unfrozen_budget_change_is_audited_with_before_and_after(make_cycle, make_user):
    cycle = make_cycle()
    budget = cycle.budgets[0]
    services.update_budget(make_user("staff"), budget, total_amount=123_00)
    entry = db.session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert entry.action == "budget.updated"
    assert entry.data["after"] == {"total_amount": 123_00}


def test_categories_are_unique_per_cycle(make_cycle, make_user):
    cycle = make_cycle()
    staff = make_user("staff")
    category = services.add_category(staff, cycle, "Culture")
    with pytest.raises(Conflict):
        services.add_category(staff, cycle, "culture")
    services.delete_category(staff, category)
    assert "Culture" not in [c.name for c in cycle.categories]


def test_rules_module_lists_engine_rules_and_params():
    assert set(rules.RULES) == {"greedy", "greedy-no-skip", "greedy-threshold", "greedy-exclusive", "greedy-per-cost", "knapsack", "mes",
                                "phragmen"}
    assert rules.PARAMS["completion"] == ("none", "greedy", "add1", "add1+greedy")
    assert rules.normalise_params("mes", {}) == {"utility": "approvals", "completion": "none", "tie_break": "lexico"}
