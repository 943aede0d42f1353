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
    db.session.add(Ballot(budget_id=budget.id, channel=BallotChannel.PAPER, tracking_hash=clash))
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
