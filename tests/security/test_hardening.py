"""Findings 2, 3, 4, 6, 7 and 8 of the attack from the outside, each guarded at the HTTP level.

(Finding 1 is in ``test_idle_connections.py``, finding 5 in ``test_bad_input.py``, findings 9 and
10 in the CLI tests.)
"""
from __future__ import annotations

from datetime import timedelta

import pytest

from conftest import PASSWORD, count_rows, csrf_token, post_form, sign_in
from pbvote.audit import AuditEntry
from pbvote.ballots.models import Ballot, Participation
from pbvote.cycles.models import Category, PhaseKind
from pbvote.extensions import db
from pbvote.proposals.models import ProposalStatus
from pbvote.timeutil import utcnow


def _vote(client, budget, project_id, token_page=None):
    token = csrf_token(client, token_page or f"/ballots/{budget.id}")
    return client.post(f"/ballots/{budget.id}/cast",
                       data={"csrf_token": token, "projects": [project_id], "token": "s" * 32})


# -- 2. an access code redeemed while signed in never moves an account that voted --------------


def test_redeeming_a_code_of_another_district_after_voting_is_refused_and_keeps_the_district(
        client, make_cycle, make_district, make_user, make_proposal, code_for, request_context):
    north, south = make_district("North"), make_district("South")
    cycle = make_cycle("voting", budgets=[
        {"name": "North budget", "total_amount": 50_000_00, "district_id": north.id},
        {"name": "South budget", "total_amount": 50_000_00, "district_id": south.id},
    ])
    north_budget, south_budget = cycle.budgets
    in_north, in_south = make_proposal(cycle, budget=north_budget), make_proposal(cycle, budget=south_budget)
    resident = make_user(district=north, verified=True)
    sign_in(client, resident)
    assert _vote(client, north_budget, in_north.id).status_code == 200
    _code, clear = code_for(cycle, district=south)

    response = post_form(client, "/vote/code", {"code": clear}, token_page="/vote/code")

    assert response.status_code == 409 or response.status_code == 400
    assert "already voted in the budget of North" in response.get_data(as_text=True)
    db.session.refresh(resident)
    assert resident.home_district_id == north.id
    assert _vote(client, south_budget, in_south.id).status_code in (400, 403, 409) or count_rows(Ballot) == 1
    assert count_rows(Participation) == 1 and count_rows(Ballot) == 1


def test_redeeming_a_code_before_voting_still_confirms_the_district(client, make_cycle, make_district, make_user, code_for,
                                                                     request_context):
    north, south = make_district("North"), make_district("South")
    cycle = make_cycle("voting", budgets=[{"name": "South budget", "total_amount": 50_000_00, "district_id": south.id}])
    resident = make_user(district=north)
    sign_in(client, resident)
    _code, clear = code_for(cycle, district=south)
    assert post_form(client, "/vote/code", {"code": clear}, token_page="/vote/code").status_code == 302
    db.session.refresh(resident)
    assert resident.home_district_id == south.id and resident.is_verified


# -- 3. voting cannot be reopened once it closed --------------------------------------------


def _phase_form(cycle, **changes):
    data = {}
    for phase in cycle.phases:
        data[f"phases-{phase.kind.value}_start"] = phase.starts_at.strftime("%Y-%m-%dT%H:%M")
        data[f"phases-{phase.kind.value}_end"] = phase.ends_at.strftime("%Y-%m-%dT%H:%M")
    data.update(changes)
    return data


def test_staff_cannot_reopen_voting_after_it_closed(client, make_cycle, make_user, make_proposal):
    cycle = make_cycle("results")
    project = make_proposal(cycle)
    sign_in(client, make_user("staff"))
    later = (utcnow() + timedelta(days=60)).strftime("%Y-%m-%dT%H:%M")
    far = (utcnow() + timedelta(days=90)).strftime("%Y-%m-%dT%H:%M")
    farther = (utcnow() + timedelta(days=91)).strftime("%Y-%m-%dT%H:%M")
    before = {p.kind: (p.starts_at, p.ends_at) for p in cycle.phases}

    reopen = _phase_form(cycle, **{"phases-voting_end": later, "phases-results_start": later, "phases-results_end": far,
                                   "phases-implementation_start": far, "phases-implementation_end": farther})
    response = post_form(client, f"/staff/cycles/{cycle.id}/phases", reopen, token_page=f"/staff/cycles/{cycle.id}")

    assert response.status_code == 400
    assert "voting cannot be reopened" in response.get_data(as_text=True)
    db.session.expire_all()
    assert {p.kind: (p.starts_at, p.ends_at) for p in cycle.phases} == before
    # Nor by moving the dates of an earlier phase that ended, nor by dropping the ended voting phase.
    moved = _phase_form(cycle, **{"phases-submission_start": "2001-01-01T00:00"})
    assert post_form(client, f"/staff/cycles/{cycle.id}/phases", moved, token_page=f"/staff/cycles/{cycle.id}").status_code == 400
    dropped = _phase_form(cycle, **{"phases-voting_start": "", "phases-voting_end": ""})
    assert post_form(client, f"/staff/cycles/{cycle.id}/phases", dropped, token_page=f"/staff/cycles/{cycle.id}").status_code == 400
    # A ballot is still refused.
    voter = make_user(verified=True)
    client.post("/sign-out", data={"csrf_token": csrf_token(client, "/")})
    sign_in(client, voter)
    assert _vote(client, cycle.budgets[0], project.id).status_code != 200
    assert count_rows(Ballot) == 0


def test_an_unchanged_phase_form_still_saves_the_later_phases_after_voting(client, make_cycle, make_user):
    cycle = make_cycle("results")
    sign_in(client, make_user("staff"))
    new_end = (cycle.phase(PhaseKind.IMPLEMENTATION).ends_at + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M")
    response = post_form(client, f"/staff/cycles/{cycle.id}/phases",
                         _phase_form(cycle, **{"phases-implementation_end": new_end}), token_page=f"/staff/cycles/{cycle.id}")
    assert response.status_code in (302, 303)
    db.session.expire_all()
    assert cycle.phase(PhaseKind.IMPLEMENTATION).ends_at.strftime("%Y-%m-%dT%H:%M") == new_end


def test_extending_voting_while_it_is_open_is_allowed_and_audited(client, make_cycle, make_user):
    cycle = make_cycle("voting")
    sign_in(client, make_user("staff"))
    voting = cycle.phase(PhaseKind.VOTING)
    new_end = voting.ends_at + timedelta(days=1)
    form = _phase_form(cycle, **{
        "phases-voting_end": new_end.strftime("%Y-%m-%dT%H:%M"),
        "phases-results_start": new_end.strftime("%Y-%m-%dT%H:%M"),
    })
    response = post_form(client, f"/staff/cycles/{cycle.id}/phases", form, token_page=f"/staff/cycles/{cycle.id}")
    assert response.status_code in (302, 303), response.get_data(as_text=True)[:500]
    assert count_rows(AuditEntry, AuditEntry.action == "cycle.voting_extended") == 1


# -- 4. sign-out, sign-in and the kiosk leave nothing of the previous voter ---------------------


def _code_vote(client, cycle, budget, project, clear):
    assert post_form(client, "/vote/code", {"code": clear}, token_page="/vote/code").status_code == 302
    response = _vote(client, budget, project.id)
    assert response.status_code == 200
    return response


def test_sign_out_clears_the_access_code_and_receipts_of_the_session(client, make_cycle, make_user, make_proposal, code_for,
                                                                    request_context):
    cycle = make_cycle("voting")
    budget = cycle.budgets[0]
    project = make_proposal(cycle)
    resident = make_user(verified=True)
    sign_in(client, resident)
    assert _vote(client, budget, project.id).status_code == 200
    assert client.get(f"/ballots/{budget.id}/receipt").status_code == 200
    client.post("/sign-out", data={"csrf_token": csrf_token(client, "/")})
    with client.session_transaction() as browser_session:
        assert set(browser_session) <= {"_flashes", "csrf_token", "_fresh", "_id"}
    assert client.get(f"/ballots/{budget.id}/receipt").status_code == 404


def test_signing_in_drops_an_access_code_held_anonymously(client, make_cycle, make_user, make_proposal, code_for,
                                                         request_context):
    cycle = make_cycle("voting")
    budget = cycle.budgets[0]
    project = make_proposal(cycle)
    _code, clear = code_for(cycle, budget=budget)
    _code_vote(client, cycle, budget, project, clear)
    sign_in(client, make_user(verified=True))
    with client.session_transaction() as browser_session:
        assert "voter_code_id" not in browser_session and "receipts" not in browser_session
    assert client.get(f"/ballots/{budget.id}/receipt").status_code == 404


def test_a_kiosk_next_voter_button_clears_the_previous_voter(client, make_cycle, make_user, make_proposal, code_for,
                                                            request_context):
    cycle = make_cycle("voting")
    budget = cycle.budgets[0]
    project = make_proposal(cycle)
    volunteer = make_user("volunteer")
    sign_in(client, volunteer)
    opened = post_form(client, f"/cycles/{cycle.slug}/kiosk", {}, token_page=f"/cycles/{cycle.slug}/kiosk")
    assert opened.status_code == 302 and opened.headers["Location"].endswith("/vote/code")
    assert count_rows(AuditEntry, AuditEntry.action == "kiosk.opened") == 1
    with client.session_transaction() as browser_session:
        assert "_user_id" not in browser_session  # the volunteer is signed out of the kiosk
    _code, clear = code_for(cycle, budget=budget)
    receipt = _code_vote(client, cycle, budget, project, clear)
    assert "Next voter" in receipt.get_data(as_text=True)

    token = csrf_token(client, f"/ballots/{budget.id}/receipt")
    response = client.post("/kiosk/next", data={"csrf_token": token})

    assert response.status_code == 302 and response.headers["Location"].endswith("/vote/code")
    with client.session_transaction() as browser_session:
        assert browser_session.get("kiosk") == cycle.slug
        assert "voter_code_id" not in browser_session and "receipts" not in browser_session
    assert client.get(f"/ballots/{budget.id}/receipt").status_code == 404
    # The next voter cannot replace the previous voter's ballot: there is no code to vote with.
    assert _vote(client, budget, project.id, token_page="/vote/code").status_code == 302
    assert count_rows(Ballot) == 1


def test_a_resident_cannot_open_a_kiosk(client, make_cycle, make_user):
    cycle = make_cycle("voting")
    sign_in(client, make_user())
    assert client.get(f"/cycles/{cycle.slug}/kiosk").status_code == 403


# -- 6. reviewers cannot read other people's drafts -------------------------------------------


def test_a_reviewer_cannot_read_someone_elses_draft_on_the_review_page(client, make_cycle, make_user, make_proposal):
    cycle = make_cycle("review")
    draft = make_proposal(cycle, status=ProposalStatus.DRAFT, title="Secret plan")
    sign_in(client, make_user("reviewer"))
    response = client.get(f"/review/proposals/{draft.id}")
    assert response.status_code == 404 and "Secret plan" not in response.get_data(as_text=True)
    submitted = make_proposal(cycle, status=ProposalStatus.SUBMITTED)
    assert client.get(f"/review/proposals/{submitted.id}").status_code == 200


# -- 7. categories stay once voting started ------------------------------------------------


def test_a_category_cannot_be_deleted_once_voting_started(client, make_cycle, make_user, make_proposal, cast):
    cycle = make_cycle("voting")
    project = make_proposal(cycle)
    with client.application.test_request_context("/"):
        cast(make_user(verified=True), cycle.budgets[0], [project])
    category_id = project.category_id
    sign_in(client, make_user("staff"))
    response = post_form(client, f"/staff/categories/{category_id}/delete", {}, token_page=f"/staff/cycles/{cycle.id}")
    assert response.status_code in (302, 303)
    assert db.session.get(Category, category_id) is not None
    db.session.refresh(project)
    assert project.category_id == category_id
    assert "can no longer be removed" in client.get(response.headers["Location"]).get_data(as_text=True)


# -- 8. nobody can lock a resident out by failing to sign in as them -------------------------


def _attempt(client, email, password, address):
    token = csrf_token(client)
    return client.post("/sign-in", data={"email": email, "password": password, "csrf_token": token},
                       environ_base={"REMOTE_ADDR": address})


@pytest.mark.parametrize("app_config", [{"PBVOTE_SIGNIN_LIMIT_PER_ACCOUNT": "8 per hour"}])
def test_failed_sign_ins_from_other_addresses_never_lock_out_the_right_password(app, make_user):
    resident = make_user()
    attacker = app.test_client()
    # One attacker address exhausts its own allowance on the account, ...
    statuses = [_attempt(attacker, resident.email, "guess", "203.0.113.9").status_code for _ in range(6)]
    assert statuses == [401] * 5 + [429]
    # ... many more addresses push the account past its ceiling for distributed guessing ...
    for n in range(10):
        _attempt(app.test_client(), resident.email, "guess", f"198.51.100.{n}")
    # ... and an address that has failed is refused even with the right password, ...
    assert _attempt(app.test_client(), resident.email, PASSWORD, "198.51.100.3").status_code == 429
    # ... but the resident, from an address that has not been failing, signs in.
    assert _attempt(app.test_client(), resident.email, PASSWORD, "192.0.2.50").status_code == 302
