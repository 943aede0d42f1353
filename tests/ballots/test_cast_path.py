"""The cast path stays lean: statements per cast, and the cache of frozen budgets' ballots."""
from __future__ import annotations

from contextlib import contextmanager

import pytest
import sqlalchemy as sa
from sqlalchemy.orm.attributes import set_committed_value
from conftest import count_rows, csrf_token, post_form

from pbvote.ballots import services
from pbvote.ballots.models import Ballot, BallotChoice
from pbvote.errors import InvalidBallot, RulesFrozen
from pbvote.extensions import db
from pbvote.proposals import services as proposal_services
from pbvote.proposals.models import ProposalStatus

#: Statements of one cast by an access code in a frozen budget (not counting BEGIN): budget with
#: cycle and phases together with the code under its lock, then on SQLite participation, ballot,
#: choices, audit entry; on PostgreSQL all four writes are one statement.
CAST_STATEMENTS = {"sqlite": 5, "postgresql": 2}
#: The budget's first ballot also reads its projects and freezes it (on PostgreSQL the freeze is
#: part of the one write statement).
FIRST_CAST_EXTRA = {"sqlite": 2, "postgresql": 1}


@contextmanager
def statements():
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if not statement.lstrip().upper().startswith("BEGIN"):
            seen.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)


def cast_with_a_code(client, budget, code_for, projects, token):
    _code, clear = code_for(budget.cycle, budget=budget)
    assert post_form(client, "/vote/code", {"code": clear}, token_page="/vote/code").status_code == 302
    csrf = csrf_token(client, f"/ballots/{budget.id}")
    path = f"/ballots/{budget.id}/cast"  # (reading budget.id may reload it: not part of the cast)
    with statements() as seen:
        response = client.post(path, data={"csrf_token": csrf, "projects": projects, "token": token})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response, seen


def test_a_cast_issues_few_statements(app, voting_budget, code_for):
    dialect = db.engine.dialect.name
    budget, ps = voting_budget(max_choices=3)
    first, seen = cast_with_a_code(app.test_client(), budget, code_for, [ps[0].id, ps[2].id], "a" * 32)
    assert len(seen) <= CAST_STATEMENTS[dialect] + FIRST_CAST_EXTRA[dialect], "\n".join(seen)
    # The first cast in the frozen budget reads its projects once more, and keeps them.
    cast_with_a_code(app.test_client(), budget, code_for, [ps[1].id], "b" * 32)
    third, seen = cast_with_a_code(app.test_client(), budget, code_for, [ps[1].id, ps[2].id, ps[3].id], "c" * 32)
    assert len(seen) <= CAST_STATEMENTS[dialect], "\n".join(seen)
    assert "Thank you — your ballot is cast." in third.get_data(as_text=True) and ps[3].title in third.get_data(as_text=True)
    assert count_rows(Ballot) == 3 and count_rows(BallotChoice) == 6


def test_a_frozen_budgets_ballot_is_read_once(app, voting_budget, make_user, cast):
    budget, ps = voting_budget()
    cast(make_user(verified=True), budget, [ps[0]])
    assert budget.frozen_at is not None
    with statements() as seen:
        first = services.ballot_snapshot(budget)
    assert len(seen) == 1
    with statements() as seen:
        again = services.ballot_snapshot(budget)
    assert seen == [] and again is first
    assert [(p.id, p.ballot_amount) for p in first] == [(p.id, p.ballot_amount) for p in ps]


def test_an_unfrozen_budgets_ballot_is_never_cached(app, voting_budget, make_proposal):
    budget, ps = voting_budget()
    assert [p.id for p in services.ballot_snapshot(budget)] == [p.id for p in ps]
    late = make_proposal(budget.cycle, budget=budget, cost=5_000_00)  # still possible before the first ballot
    db.session.commit()
    assert [p.id for p in services.ballot_snapshot(budget)] == [p.id for p in ps] + [late.id]
    assert not app.extensions.get(services.SNAPSHOT_CACHE)


def test_the_cache_of_one_budget_is_not_used_for_another(app, make_cycle, make_proposal, make_user, cast):
    cycle = make_cycle("voting", budgets=[{"name": "North", "total_amount": 100_000_00},
                                          {"name": "South", "total_amount": 100_000_00}])
    north, south = cycle.budgets
    north_projects = [make_proposal(cycle, budget=north, cost=1_000_00) for _ in range(2)]
    south_projects = [make_proposal(cycle, budget=south, cost=2_000_00) for _ in range(3)]
    voter = make_user(verified=True)
    cast(voter, north, [north_projects[0]])
    cast(voter, south, [south_projects[0]])
    assert [p.id for p in services.ballot_snapshot(north)] == [p.id for p in north_projects]
    assert [p.id for p in services.ballot_snapshot(south)] == [p.id for p in south_projects]
    with pytest.raises(InvalidBallot, match="not on this ballot"):  # a project of the other budget stays refused
        cast(make_user(verified=True), south, [north_projects[1]])


def test_a_budget_frozen_again_is_read_again(app, voting_budget, make_user, cast):
    """The key holds frozen_at: should a budget ever be frozen anew (restored backup, repair by
    hand), the old snapshot is not used."""
    budget, ps = voting_budget()
    cast(make_user(verified=True), budget, [ps[0]])
    before = services.ballot_snapshot(budget)
    db.session.execute(sa.update(type(budget)).where(type(budget).id == budget.id).values(frozen_at=None))
    ps[1].status, ps[1].review_reason = ProposalStatus.UNFEASIBLE, "Repaired by hand."
    db.session.commit()
    cast(make_user(verified=True), budget, [ps[0]])  # freezes again, at a new time
    after = services.ballot_snapshot(budget)
    assert ps[1].id in [p.id for p in before] and ps[1].id not in [p.id for p in after]


def test_review_of_a_frozen_budget_is_refused_on_the_database_state(app, voting_budget, make_user, cast):
    """The review services read frozen_at from the database (under the budget's row lock), not from a
    copy loaded before the first ballot was cast."""
    budget, ps = voting_budget()
    reviewer = make_user("staff")
    cast(make_user(verified=True), budget, [ps[0]])
    set_committed_value(budget, "frozen_at", None)  # as a copy loaded before the first ballot still says
    with pytest.raises(RulesFrozen):
        proposal_services.mark_unfeasible(reviewer, ps[1], "Too late.")
