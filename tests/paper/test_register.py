"""One person, one ballot across paper, kiosk and online: the session register writes the same
participation rows an online ballot does, so the database refuses the second vote either way, and
each refusal is listed for staff."""
from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from conftest import count_rows, csrf_token, post_form, sign_in

from pbvote.ballots import services as ballot_services
from pbvote.ballots.models import AccessCode, Ballot, BallotChannel, Participation
from pbvote.ballots.paper import services
from pbvote.ballots.paper.models import ConflictKind, PaperConflict, RegisterEntry, RegisterMethod
from pbvote.ballots.services import Voter
from pbvote.cycles.models import DistrictEligibility
from pbvote.errors import Conflict, InvalidInput, NotAllowed
from pbvote.extensions import db

PAPER, KIOSK, ONLINE = BallotChannel.PAPER, BallotChannel.KIOSK, BallotChannel.ONLINE


def _register(p, **kwargs):
    kwargs.setdefault("channel", PAPER)
    registration = services.register_voter(p.v1, p.session, **kwargs)
    db.session.commit()
    return registration


def test_a_letter_code_registered_for_paper_cannot_vote_online_and_the_refusal_is_listed(paper, code_for, app):
    p = paper()
    code, clear = code_for(p.cycle, budget=p.budget)
    registration = _register(p, method=RegisterMethod.ACCESS_CODE, code_text=clear.lower())
    assert registration.handed == [p.budget] and registration.kiosk_code is None
    [participation] = db.session.scalars(sa.select(Participation)).all()
    assert (participation.access_code_id, participation.channel) == (code.id, PAPER)
    # Online, through the real cast path (the PostgreSQL fast path too): refused, and listed.
    client = app.test_client()
    with client.session_transaction() as browser:
        browser["voter_code_id"] = code.id
    response = client.post(f"/ballots/{p.budget.id}/cast", data={
        "csrf_token": csrf_token(client, "/sign-in"), "projects": [p.proposals[0].id],
        "token": ballot_services.new_submission_token()})
    assert response.status_code == 409
    assert "on paper, at a community session" in response.get_data(as_text=True)
    assert count_rows(Ballot) == 0
    [conflict] = db.session.scalars(sa.select(PaperConflict)).all()
    assert (conflict.kind, conflict.first_channel, conflict.attempted_channel) == (ConflictKind.VOTED_AFTER, PAPER, ONLINE)
    assert conflict.access_code_id == code.id and conflict.session_id == p.session.id


def test_a_voter_who_voted_online_gets_no_sheet_and_staff_see_the_conflict(paper, make_user, cast):
    p = paper()
    resident = make_user(verified=True)
    cast(resident, p.budget, [p.proposals[0]])
    registration = _register(p, method=RegisterMethod.ACCOUNT, user=resident)
    assert registration.entry is None and registration.handed == []
    [decision] = registration.decisions
    assert "Already voted in this budget online" in decision.refusal
    [conflict] = services.cycle_conflicts(p.cycle)
    assert (conflict.kind, conflict.first_channel, conflict.attempted_channel) == (ConflictKind.VOTED_BEFORE, ONLINE, PAPER)
    assert conflict.user_id == resident.id and conflict.detected_by_id == p.v1.id
    assert count_rows(Participation) == 1
    services.review_conflict(p.staff, conflict, "Told the resident their online vote stands.")
    db.session.commit()
    assert conflict.reviewed_by_id == p.staff.id
    with pytest.raises(Conflict):
        services.review_conflict(p.staff, conflict, "again")


def test_an_account_registered_on_paper_cannot_vote_online(paper, make_user, cast):
    p = paper()
    resident = make_user(verified=True)
    _register(p, method=RegisterMethod.ACCOUNT, user=resident)
    with pytest.raises(Conflict, match="on paper"):
        cast(resident, p.budget, [p.proposals[0]])
    db.session.rollback()
    assert count_rows(Ballot) == 0


def test_the_same_voter_at_a_second_session_gets_no_second_sheet(paper, make_user):
    p = paper()
    resident = make_user(verified=True)
    _register(p, method=RegisterMethod.ACCOUNT, user=resident)
    other = services.create_session(p.staff, p.cycle, place="School gate", starts_at=p.session.starts_at,
                                    ends_at=p.session.ends_at, budgets=[p.budget], volunteers=[p.v2])
    db.session.commit()
    registration = services.register_voter(p.v2, other, method=RegisterMethod.ACCOUNT, channel=PAPER, user=resident)
    assert registration.handed == [] and "Already took a paper ballot" in registration.decisions[0].refusal


def test_the_register_follows_the_cycles_eligibility(voting_budget, make_user, make_district, make_proposal):
    """A resident gets sheets for the city-wide budget and their own district's, not another's."""
    home, away = make_district("Home"), make_district("Away")
    citywide, _ps = voting_budget(cycle={"district_eligibility": DistrictEligibility.HOME_DISTRICT})
    cycle = citywide.cycle
    from pbvote.cycles.models import Budget

    budgets = [citywide]
    for district in (home, away):
        budget = Budget(cycle=cycle, name=district.name, district=district, total_amount=50_000_00,
                        ballot_type=citywide.ballot_type, min_choices=1, tally_rule="greedy", tally_params={},
                        position=len(budgets))
        db.session.add(budget)
        db.session.commit()
        make_proposal(cycle, budget=budget)
        budgets.append(budget)
    staff, volunteer = make_user("staff"), make_user("volunteer")
    voting = cycle.phase(cycle.phases[0].kind.__class__.VOTING)
    session = services.create_session(staff, cycle, place="Library", starts_at=voting.starts_at,
                                      ends_at=voting.ends_at, budgets=budgets, volunteers=[volunteer])
    resident = make_user(verified=True, district=home)
    registration = services.register_voter(volunteer, session, method=RegisterMethod.ACCOUNT, channel=PAPER,
                                           user=resident)
    db.session.commit()
    assert registration.handed == [citywide, budgets[1]]
    refused = [d for d in registration.decisions if not d.handed]
    assert [d.budget for d in refused] == [budgets[2]] and "home district" in refused[0].refusal
    assert services.cycle_conflicts(cycle) == []


def test_a_kiosk_voter_gets_a_single_use_code_and_votes_once(paper, make_user, cast, app):
    p = paper()
    resident = make_user(verified=True)
    registration = _register(p, method=RegisterMethod.ACCOUNT, user=resident, channel=KIOSK)
    assert registration.handed == [p.budget] and re.fullmatch(r"[A-Z2-9]{12}", registration.kiosk_code)
    code = ballot_services.find_access_code(registration.kiosk_code)
    assert code is not None and code.batch.budget_id == p.budget.id
    # The account is marked as taking part at the kiosk: online it is refused ...
    with pytest.raises(Conflict):
        cast(resident, p.budget, [p.proposals[0]])
    db.session.rollback()
    # ... and the code votes once, on the kiosk's channel.
    result = cast(code, p.budget, [p.proposals[1]], channel=KIOSK)
    assert result.ballot.channel == KIOSK
    cast(code, p.budget, [p.proposals[2]], channel=KIOSK)  # the cycle lets voters change their vote
    assert count_rows(Ballot, Ballot.superseded_at.is_(None)) == 1
    turnout = {row.budget.id: row for row in services.turnout(p.cycle)}[p.budget.id]
    assert turnout.ballots == {KIOSK: 1} and turnout.voters == {KIOSK: 1}  # one voter, counted once


def test_a_letter_code_at_the_kiosk_needs_no_registration(paper, code_for):
    p = paper()
    _code, clear = code_for(p.cycle, budget=p.budget)
    with pytest.raises(InvalidInput, match="types the code from their letter"):
        _register(p, method=RegisterMethod.ACCESS_CODE, code_text=clear, channel=KIOSK)


def test_walk_ins_only_where_the_cycle_allows_them(paper):
    p = paper()
    with pytest.raises(NotAllowed, match="walk-ins"):
        _register(p, method=RegisterMethod.WALK_IN)
    db.session.rollback()
    services.save_settings(p.staff, p.cycle, invalid_policy=services.paper_settings(p.cycle).invalid_policy,
                           policy_note="", walk_ins=True)
    db.session.commit()
    registration = _register(p, method=RegisterMethod.WALK_IN)
    assert registration.handed == [p.budget] and count_rows(Participation) == 0
    kiosk = _register(p, method=RegisterMethod.WALK_IN, channel=KIOSK)
    assert kiosk.kiosk_code and ballot_services.find_access_code(kiosk.kiosk_code) is not None


def test_taking_back_a_registration_frees_the_voter_and_cancels_an_unused_kiosk_code(paper, make_user, cast):
    p = paper()
    resident = make_user(verified=True)
    registration = _register(p, method=RegisterMethod.ACCOUNT, user=resident, channel=KIOSK)
    with pytest.raises(NotAllowed):
        services.undo_registration(p.v2, registration.entry)
    db.session.rollback()
    services.undo_registration(p.v1, registration.entry)
    db.session.commit()
    assert count_rows(Participation) == 0 and registration.entry.undone_at is not None
    code = db.session.get(AccessCode, registration.entry.kiosk_code_id)
    assert code.voided_at is not None
    assert cast(resident, p.budget, [p.proposals[0]]).ballot.channel == ONLINE  # free to vote online now


def test_a_registration_whose_kiosk_code_voted_cannot_be_taken_back(paper, make_user, cast):
    p = paper()
    registration = _register(p, method=RegisterMethod.ACCOUNT, user=make_user(verified=True), channel=KIOSK)
    cast(ballot_services.find_access_code(registration.kiosk_code), p.budget, [p.proposals[0]], channel=KIOSK)
    with pytest.raises(Conflict, match="used to vote"):
        services.undo_registration(p.v1, db.session.get(RegisterEntry, registration.entry.id))


def test_residents_are_looked_up_by_name_or_e_mail(paper, make_user):
    paper()
    ada = make_user(name="Ada Lovelace", email="ada@example.org")
    make_user(name="Grace Hopper")
    assert services.find_residents("lovel") == [ada]
    assert services.find_residents("ADA@example.org") == [ada]
    assert services.find_residents("100%_") == []
    with pytest.raises(InvalidInput):
        services.find_residents("a")


def test_the_register_through_the_pages(paper, client, login, code_for):
    p = paper()
    _code, clear = code_for(p.cycle, budget=p.budget)
    login(p.v1)
    page = f"/paper/sessions/{p.session.id}/register"
    response = post_form(client, page + "/code", {"code": clear}, token_page=page)
    assert response.status_code == 200 and "Hand out a sheet for: City-wide" in response.get_data(as_text=True)
    again = post_form(client, page + "/code", {"code": clear}, token_page=page)
    assert again.status_code == 200 and "Already took a paper ballot" in again.get_data(as_text=True)
    assert count_rows(PaperConflict) == 1
    wrong = post_form(client, page + "/code", {"code": "AAAA-BBBB-CCCC"}, token_page=page)
    assert wrong.status_code == 400 and "We do not recognise this code" in wrong.get_data(as_text=True)
    lookup = client.get(page, query_string={"query": p.v2.display_name})
    assert lookup.status_code == 200 and p.v2.email in lookup.get_data(as_text=True)
    response = post_form(client, page + "/account", {"user": str(p.v2.id), "channel": "kiosk"}, token_page=page)
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and 'id="kiosk-code"' in body
    entry = db.session.scalar(sa.select(RegisterEntry).where(RegisterEntry.user_id == p.v2.id))
    undo = post_form(client, f"/paper/register/{entry.id}/undo", token_page=page)
    assert undo.status_code == 303
    assert db.session.get(RegisterEntry, entry.id).undone_at is not None


def test_a_voter_registered_on_paper_is_not_offered_to_see_or_change_a_vote_online(paper, make_user, app):
    """Their sheet counts with no link to them: the voting page says so instead of a "See or change
    my vote" button that could only end in a refusal, and the ballot page sends them back to it."""
    p = paper()
    resident = make_user(verified=True)
    _register(p, method=RegisterMethod.ACCOUNT, user=resident)
    client = app.test_client()
    sign_in(client, resident)
    page = client.get(f"/cycles/{p.cycle.slug}/vote").get_data(as_text=True)
    assert "on paper, at a community session. That ballot counts" in page
    assert f'href="/ballots/{p.budget.id}"' not in page and "See or change my vote" not in page
    assert "Voted" in page
    response = client.get(f"/ballots/{p.budget.id}")
    assert response.status_code == 302 and response.location.endswith(f"/cycles/{p.cycle.slug}/vote")
    assert "That ballot counts" in client.get(response.location).get_data(as_text=True)
