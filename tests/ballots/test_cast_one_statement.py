"""A voter's first ballot: on PostgreSQL one statement writes participation, ballot, choices, audit
entry (and freezes the budget); SQLite takes the generic path.  The same tests run on both, so both
paths are held to the same rows; the PostgreSQL-only tests check that the one statement is used.
"""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from conftest import count_rows

from pbvote.audit import AuditEntry
from pbvote.ballots import services
from pbvote.ballots.models import Ballot, BallotChannel, BallotChoice, Participation
from pbvote.ballots.services import Choice, Voter
from pbvote.errors import Conflict
from pbvote.extensions import db

from tests.ballots.test_cast_path import statements


def _writes(seen: list[str]) -> list[str]:
    return [s for s in seen if s.lstrip().upper().startswith(("INSERT", "UPDATE", "WITH"))]


def _stored(ballot_id: int) -> tuple[Ballot, list[tuple]]:
    db.session.expire_all()
    ballot = db.session.get(Ballot, ballot_id)
    choices = db.session.execute(
        sa.select(BallotChoice.proposal_id, BallotChoice.points, BallotChoice.rank)
        .where(BallotChoice.ballot_id == ballot_id)
        .order_by(BallotChoice.proposal_id)
    ).all()
    return ballot, [tuple(row) for row in choices]


@pytest.mark.parametrize("keep_link", [True, False])
def test_first_ballot_of_a_code_stores_every_row(voting_budget, code_for, cast, keep_link):
    budget, ps = voting_budget(cycle={"allow_vote_change": keep_link})
    code, _clear = code_for(budget.cycle, budget=budget)
    result = cast(code, budget, [ps[1], ps[0]])
    ballot, choices = _stored(result.ballot.id)
    participation = db.session.scalar(sa.select(Participation).where(Participation.access_code_id == code.id))
    assert (participation.budget_id, participation.user_id, participation.channel) == (budget.id, None, BallotChannel.ONLINE)
    assert ballot.participation_id == (participation.id if keep_link else None)
    assert (ballot.budget_id, ballot.channel, ballot.superseded_at, ballot.supersedes_id) == (budget.id, BallotChannel.ONLINE, None, None)
    assert ballot.tracking_hash == services.tracking_hash(result.tracking_code)
    assert ballot.cast_at == result.ballot.cast_at
    assert choices == [(ps[0].id, None, None), (ps[1].id, None, None)]
    assert [c.proposal_id for c in result.ballot.choices] == [ps[0].id, ps[1].id]
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "ballot.cast"))
    assert (entry.actor_id, entry.subject_type, entry.subject_id) == (None, "Budget", budget.id)
    assert entry.data == {"via": "access_code", "channel": "online"} and entry.address_hash is not None
    assert budget.frozen_at is not None
    assert db.session.scalar(sa.select(type(budget).frozen_at).where(type(budget).id == budget.id)) is not None


def test_first_ballot_of_an_account_names_the_actor(voting_budget, make_user, cast):
    budget, ps = voting_budget()
    user = make_user(verified=True)
    cast(user, budget, [ps[0]])
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "ballot.cast"))
    assert entry.actor_id == user.id and entry.data["via"] == "account"
    assert count_rows(Participation, Participation.user_id == user.id) == 1


def test_points_and_ranks_are_stored(voting_budget, make_user, cast):
    budget, ps = voting_budget("cumulative", points_total=10)
    result = cast(make_user(verified=True), budget, [Choice(ps[2].id, points=7), Choice(ps[0].id, points=3)])
    assert _stored(result.ballot.id)[1] == [(ps[0].id, 3, None), (ps[2].id, 7, None)]
    budget, ps = voting_budget("ranking")
    result = cast(make_user(verified=True), budget, [Choice(ps[1].id, rank=1), Choice(ps[3].id, rank=2)])
    assert _stored(result.ballot.id)[1] == [(ps[1].id, None, 1), (ps[3].id, None, 2)]


def test_a_blank_ballot_has_no_choices(voting_budget, make_user, cast):
    budget, _ps = voting_budget("approval", min_choices=0)
    result = cast(make_user(verified=True), budget, [])
    assert _stored(result.ballot.id)[1] == [] and count_rows(Ballot) == 1


def test_retry_after_a_first_ballot_returns_its_receipt(voting_budget, code_for, cast):
    budget, ps = voting_budget(cycle={"allow_vote_change": False})
    code, _clear = code_for(budget.cycle, budget=budget)
    token = services.new_submission_token()
    first = cast(code, budget, [ps[0]], token=token)
    again = cast(code, budget, [ps[0]], token=token)
    assert again.replayed and (again.ballot.id, again.tracking_code) == (first.ballot.id, first.tracking_code)
    assert count_rows(Ballot) == 1 and count_rows(Participation) == 1
    assert count_rows(AuditEntry, AuditEntry.action == "ballot.cast") == 1


def test_a_changed_vote_after_a_first_ballot_supersedes_it(voting_budget, code_for, cast):
    budget, ps = voting_budget(cycle={"allow_vote_change": True})
    code, _clear = code_for(budget.cycle, budget=budget)
    first = cast(code, budget, [ps[0]])
    second = cast(code, budget, [ps[1]])
    assert second.superseded is not None and second.superseded.id == first.ballot.id
    old, _choices = _stored(first.ballot.id)
    assert old.superseded_at is not None and _stored(second.ballot.id)[0].supersedes_id == first.ballot.id
    assert [b.id for b in services.countable_ballots(budget)] == [second.ballot.id]
    assert count_rows(AuditEntry, AuditEntry.action == "ballot.superseded") == 1


def test_a_clash_with_a_stored_ballot_is_a_conflict_and_leaves_nothing(voting_budget, make_user, cast):
    """Should a unique constraint refuse the write (here: a tracking code already stored), the voter
    gets a Conflict (409), and the rolled-back transaction leaves no participation behind."""
    budget, ps = voting_budget()
    user = make_user(verified=True)
    token = services.new_submission_token()
    clash = services.tracking_hash(services.tracking_code_for(Voter(user=user), budget, token))
    db.session.add(Ballot(budget_id=budget.id, channel=BallotChannel.KIOSK, tracking_hash=clash))
    db.session.commit()
    with pytest.raises(Conflict):
        cast(user, budget, [ps[0]], token=token)
    db.session.rollback()
    assert count_rows(Participation) == 0 and count_rows(Ballot) == 1
    assert count_rows(AuditEntry, AuditEntry.action == "ballot.cast") == 0


def test_on_postgresql_the_first_ballot_is_one_write_statement(app, voting_budget, code_for, cast):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the one-statement cast is PostgreSQL's")
    budget, ps = voting_budget()
    code, _clear = code_for(budget.cycle, budget=budget)
    with statements() as seen:
        cast(code, budget, [ps[0], ps[1]])
    writes = _writes(seen)
    assert len(writes) == 1 and writes[0].lstrip().startswith("WITH participation AS"), "\n".join(seen)
    # Freezing the budget is in the statement of its first ballot only.
    code, _clear = code_for(budget.cycle, budget=budget)
    with statements() as seen:
        cast(code, budget, [ps[2]])
    writes = _writes(seen)
    assert len(writes) == 1 and "UPDATE budgets" not in writes[0]


# -- an access code's first ballot outside any transaction (PostgreSQL) -------------------------


@pytest.fixture
def pg_only(app):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the cast outside a transaction is PostgreSQL's")


def _read(budget, code):
    """What the cast view reads first: budget and code, without a lock, outside any transaction."""
    from pbvote.db import autocommit_connection

    with autocommit_connection() as connection:
        return services.store().load_target(budget.id, code.id, connection)


def _cast_unlocked(budget_snapshot, code_snapshot, choices, token="u" * 32):
    from pbvote.db import autocommit_connection

    with app_request():
        with autocommit_connection() as connection:
            return services.cast_first_code_ballot(Voter(code=code_snapshot), budget_snapshot, choices, token, connection)


def app_request():
    from flask import current_app

    return current_app.test_request_context("/", environ_base={"REMOTE_ADDR": "192.0.2.7"})


def test_a_codes_first_ballot_is_two_statements_outside_any_transaction(pg_only, client, voting_budget, code_for):
    """The cast view reads the budget and the code, then writes everything in one statement, both on
    a connection in autocommit mode: no BEGIN and no COMMIT round trip, stored when it returns."""
    from conftest import csrf_token, post_form

    budget, ps = voting_budget()
    _code, clear = code_for(budget.cycle, budget=budget)
    assert post_form(client, "/vote/code", {"code": clear}, token_page="/vote/code").status_code == 302
    csrf = csrf_token(client, f"/ballots/{budget.id}")
    path, project = f"/ballots/{budget.id}/cast", ps[0].id  # (reading them may reload them: not the cast's)
    seen = []

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append((statement.lstrip()[:40], conn.connection.driver_connection.autocommit))

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        response = client.post(path, data={"csrf_token": csrf, "projects": [project], "token": "t" * 32})
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)
    assert response.status_code == 200 and "your ballot is cast" in response.get_data(as_text=True)
    writes = [s for s in seen if s[0].startswith("WITH")]
    assert len(writes) == 1 and writes[0][0].startswith("WITH code AS") and all(auto for _s, auto in seen), seen
    assert len(seen) == 3  # the budget with the code, the ballot's projects (then kept), the write
    assert count_rows(Participation) == 1 and count_rows(Ballot) == 1 and count_rows(BallotChoice) == 1
    assert count_rows(AuditEntry, AuditEntry.action == "ballot.cast") == 1


def test_a_code_cancelled_after_it_was_read_writes_nothing_and_the_locked_cast_refuses(pg_only, voting_budget, code_for, make_user, cast):
    from pbvote.errors import NotAllowed

    budget, ps = voting_budget()
    code, clear = code_for(budget.cycle, budget=budget)
    budget_snapshot, code_snapshot = _read(budget, code)
    services.void_access_code(make_user("staff"), clear, "Reported stolen")
    db.session.commit()
    assert _cast_unlocked(budget_snapshot, code_snapshot, [Choice(ps[0].id)]) is None
    assert count_rows(Participation) == 0 and count_rows(Ballot) == 0
    with pytest.raises(NotAllowed):
        cast(code, budget, [ps[0]])


def test_a_code_added_to_an_account_after_it_was_read_writes_nothing(pg_only, voting_budget, code_for, make_user):
    budget, ps = voting_budget()
    code, clear = code_for(budget.cycle, budget=budget)
    budget_snapshot, code_snapshot = _read(budget, code)
    services.redeem_access_code(make_user(), clear)
    db.session.commit()
    assert _cast_unlocked(budget_snapshot, code_snapshot, [Choice(ps[0].id)]) is None
    assert count_rows(Participation) == 0 and count_rows(Ballot) == 0


def test_a_code_that_took_part_writes_nothing_outside_a_transaction(pg_only, voting_budget, code_for, cast):
    """A retry, a change of vote or a second ballot is never decided without the lock: the
    statement writes nothing and the ordinary cast decides (here: the same receipt again)."""
    budget, ps = voting_budget()
    code, _clear = code_for(budget.cycle, budget=budget)
    budget_snapshot, code_snapshot = _read(budget, code)
    first = cast(code, budget, [ps[0]], token="u" * 32)
    assert _cast_unlocked(budget_snapshot, code_snapshot, [Choice(ps[0].id)], token="u" * 32) is None
    assert _cast_unlocked(budget_snapshot, code_snapshot, [Choice(ps[1].id)], token="v" * 32) is None
    assert count_rows(Participation) == 1 and count_rows(Ballot) == 1
    again = cast(code, budget, [ps[0]], token="u" * 32)
    assert again.replayed and again.ballot.id == first.ballot.id


def test_a_first_ballot_outside_a_transaction_is_checked_like_any_other(pg_only, voting_budget, code_for):
    from pbvote.errors import InvalidBallot

    budget, ps = voting_budget(max_choices=1)
    code, _clear = code_for(budget.cycle, budget=budget)
    budget_snapshot, code_snapshot = _read(budget, code)
    with pytest.raises(InvalidBallot):
        _cast_unlocked(budget_snapshot, code_snapshot, [Choice(ps[0].id), Choice(ps[1].id)])
    assert count_rows(Participation) == 0 and count_rows(Ballot) == 0
    result = _cast_unlocked(budget_snapshot, code_snapshot, [Choice(ps[2].id)])
    stored, choices = _stored(result.stored.id)
    assert choices == [(ps[2].id, None, None)] and stored.tracking_hash == services.tracking_hash(result.tracking_code)
    assert count_rows(AuditEntry, AuditEntry.action == "ballot.cast") == 1
