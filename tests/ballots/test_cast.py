"""Casting: phase, eligibility, exactly once, supersede, idempotent retry, audit, tally source."""
from __future__ import annotations

from datetime import timedelta

import pytest
from conftest import count_rows

from pbvote.audit import AuditEntry
from pbvote.ballots import services
from pbvote.ballots.models import Ballot, Participation
from pbvote.ballots.services import Choice, Voter
from pbvote.cycles.models import DistrictEligibility, PhaseKind
from pbvote.errors import Conflict, InvalidInput, NotAllowed, PhaseClosed
from pbvote.extensions import db
from pbvote.timeutil import utcnow


def test_cast_stores_ballot_choices_and_freezes_the_budget(voting_budget, make_user, cast):
    budget, ps = voting_budget("knapsack")
    result = cast(make_user(verified=True), budget, [ps[0], ps[1]])
    assert not result.replayed
    assert [c.proposal_id for c in result.ballot.choices] == [ps[0].id, ps[1].id]
    assert result.ballot.tracking_hash == services.tracking_hash(result.tracking_code)
    assert len(result.tracking_code) * 4.9 >= 128
    assert budget.frozen_at is not None
    assert [b.id for b in services.countable_ballots(budget)] == [result.ballot.id]


def test_cast_refused_before_and_after_the_voting_phase(voting_budget, make_user, cast):
    budget, ps = voting_budget(phase="review")
    with pytest.raises(PhaseClosed, match="not open"):
        cast(make_user(), budget, [ps[0]])
    budget, ps = voting_budget(phase="voting")
    voting = budget.cycle.phase(PhaseKind.VOTING)
    with pytest.raises(PhaseClosed, match="closed"):
        cast(make_user(), budget, [ps[0]], now=voting.ends_at)  # arrives one instant after closing
    db.session.rollback()
    assert count_rows(Ballot) == 0


def test_late_cast_through_the_form_is_refused_cleanly(voting_budget, make_user, client, login):
    from conftest import csrf_token

    budget, ps = voting_budget()
    user = make_user(verified=True)
    login(user)
    token = csrf_token(client, f"/ballots/{budget.id}")
    phase = budget.cycle.phase(PhaseKind.VOTING)
    phase.ends_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    response = client.post(f"/ballots/{budget.id}/cast", data={"csrf_token": token, "projects": [ps[0].id], "token": "x" * 32})
    assert response.status_code == 409
    assert "Voting has closed" in response.get_data(as_text=True)
    assert count_rows(Ballot) == 0


def test_district_budgets_follow_the_cycles_eligibility(make_cycle, make_district, make_user, make_proposal, cast):
    north, south = make_district("North"), make_district("South")
    cycle = make_cycle(
        "voting",
        budgets=[
            {"name": "City", "total_amount": 100_000_00},
            {"name": "North", "total_amount": 50_000_00, "district_id": north.id},
            {"name": "South", "total_amount": 50_000_00, "district_id": south.id},
        ],
    )
    city, north_budget, south_budget = cycle.budgets
    picks = {b.id: make_proposal(cycle, budget=b, cost=1_000_00) for b in cycle.budgets}
    resident = make_user(district=north, verified=True)
    cast(resident, city, [picks[city.id]])
    cast(resident, north_budget, [picks[north_budget.id]])
    with pytest.raises(NotAllowed, match="home district"):
        cast(resident, south_budget, [picks[south_budget.id]])
    db.session.rollback()

    cycle.district_eligibility = DistrictEligibility.ANY_ONE_DISTRICT
    db.session.commit()
    other = make_user(district=north, verified=True)
    cast(other, south_budget, [picks[south_budget.id]])
    with pytest.raises(NotAllowed, match="one district only"):
        cast(other, north_budget, [picks[north_budget.id]])


def test_verified_only_and_minimum_age(voting_budget, make_user, cast):
    budget, ps = voting_budget(cycle={"verified_only": True, "minimum_age": 16})
    with pytest.raises(NotAllowed, match="confirmed"):
        cast(make_user(verified=False), budget, [ps[0]])
    db.session.rollback()
    with pytest.raises(NotAllowed, match="at least 16"):
        cast(make_user(verified=True, birth_year=utcnow().year - 10), budget, [ps[0]])
    db.session.rollback()
    with pytest.raises(NotAllowed, match="Add your year of birth"):  # unknown age is not old enough
        cast(make_user(verified=True), budget, [ps[0]])
    db.session.rollback()
    cast(make_user(verified=True, birth_year=utcnow().year - 16), budget, [ps[0]])  # turns 16 this year
    cast(make_user(verified=True, birth_year=utcnow().year - 30), budget, [ps[0]])


def test_second_ballot_supersedes_the_first_when_changes_are_allowed(voting_budget, make_user, cast):
    budget, ps = voting_budget(cycle={"allow_vote_change": True})
    user = make_user(verified=True)
    first = cast(user, budget, [ps[0]]).ballot
    second = cast(user, budget, [ps[1], ps[2]])
    assert second.superseded is first
    db.session.refresh(first)
    assert first.superseded_at is not None and second.ballot.supersedes_id == first.id
    assert [c.proposal_id for c in first.choices] == [ps[0].id]  # old contents kept as they were
    assert [b.id for b in services.countable_ballots(budget)] == [second.ballot.id]
    assert count_rows(Participation) == 1
    actions = [e.action for e in db.session.scalars(db.select(AuditEntry).order_by(AuditEntry.id))]
    assert actions.count("ballot.cast") == 2 and actions.count("ballot.superseded") == 1


def test_second_ballot_is_a_conflict_when_changes_are_not_allowed(voting_budget, make_user, cast):
    budget, ps = voting_budget(cycle={"allow_vote_change": False})
    user = make_user(verified=True)
    first = cast(user, budget, [ps[0]])
    assert first.ballot.participation_id is None  # no re-vote, so no voter link is kept
    with pytest.raises(Conflict, match="already voted"):
        cast(user, budget, [ps[1]])
    db.session.rollback()
    assert count_rows(Ballot) == 1


def test_the_same_submission_twice_returns_the_original_receipt(voting_budget, make_user, cast):
    budget, ps = voting_budget(cycle={"allow_vote_change": False})
    user = make_user(verified=True)
    token = services.new_submission_token()
    first = cast(user, budget, [ps[0]], token=token)
    again = cast(user, budget, [ps[0]], token=token)
    assert again.replayed and again.ballot.id == first.ballot.id and again.tracking_code == first.tracking_code
    assert count_rows(Ballot) == 1


def test_a_token_replayed_by_another_voter_is_not_their_receipt(voting_budget, make_user, cast):
    budget, ps = voting_budget()
    token = services.new_submission_token()
    first = cast(make_user(verified=True), budget, [ps[0]], token=token)
    other = cast(make_user(verified=True), budget, [ps[1]], token=token)
    assert not other.replayed and other.ballot.id != first.ballot.id


@pytest.mark.parametrize("token", ["", "short", "x" * 65, "bad token with spaces!!!!"])
def test_cast_needs_a_well_formed_token(voting_budget, make_user, cast, token):
    budget, ps = voting_budget()
    with pytest.raises(InvalidInput):
        services.cast_ballot(Voter(user=make_user(verified=True)), budget, [Choice(ps[0].id)], token)


def test_database_refuses_a_second_live_ballot_even_without_the_service(voting_budget, make_user, cast):
    import sqlalchemy as sa

    budget, ps = voting_budget(cycle={"allow_vote_change": True})
    first = cast(make_user(verified=True), budget, [ps[0]]).ballot
    db.session.add(Ballot(budget_id=budget.id, channel=first.channel, participation_id=first.participation_id, tracking_hash="f" * 64))
    with pytest.raises(sa.exc.IntegrityError):
        db.session.flush()
    db.session.rollback()
    db.session.add(Participation(budget_id=budget.id, user_id=db.session.get(Participation, first.participation_id).user_id, channel=first.channel))
    with pytest.raises(sa.exc.IntegrityError):
        db.session.flush()


def test_void_marks_a_ballot_and_the_tally_skips_it(voting_budget, make_user, cast):
    budget, ps = voting_budget()
    staff = make_user("staff")
    ballot = cast(make_user(verified=True), budget, [ps[0]]).ballot
    with pytest.raises(InvalidInput):
        services.void_ballot(staff, ballot, " ")
    services.void_ballot(staff, ballot, "Cast under pressure, reported at the town hall")
    db.session.commit()
    assert list(services.countable_ballots(budget)) == []
    assert [c.proposal_id for c in ballot.choices] == [ps[0].id]
    entry = db.session.scalar(db.select(AuditEntry).where(AuditEntry.action == "ballot.voided"))
    assert entry.actor_id == staff.id


def test_audit_of_a_cast_names_the_budget_never_the_ballot_or_code(voting_budget, code_for, cast):
    budget, ps = voting_budget()
    code, clear = code_for(budget.cycle, budget=budget)
    cast(code, budget, [ps[0]])
    entry = db.session.scalar(db.select(AuditEntry).where(AuditEntry.action == "ballot.cast"))
    assert (entry.subject_type, entry.subject_id, entry.actor_id) == ("Budget", budget.id, None)
    assert clear not in repr(entry.data) and entry.address_hash is not None


def test_sealing_after_voting_severs_voter_links_but_keeps_participation(voting_budget, make_user, cast):
    budget, ps = voting_budget(cycle={"allow_vote_change": True})
    user = make_user(verified=True)
    cast(user, budget, [ps[0]])
    with pytest.raises(PhaseClosed):
        services.seal_voter_links(budget.cycle)
    after = budget.cycle.phase(PhaseKind.VOTING).ends_at
    assert services.seal_voter_links(budget.cycle, now=after) == 1
    db.session.commit()
    assert count_rows(Ballot, Ballot.participation_id.is_not(None)) == 0
    assert count_rows(Participation, Participation.user_id == user.id) == 1
    assert len(list(services.countable_ballots(budget))) == 1
