"""Staff void a ballot by the tracking code on its receipt, never seeing what it contained."""
from __future__ import annotations

from datetime import timedelta

import pytest
from conftest import count_rows, csrf_token, sign_in

from pbvote.audit import AuditEntry
from pbvote.ballots import services
from pbvote.ballots.models import Ballot
from pbvote.cycles.models import PhaseKind
from pbvote.errors import Conflict, InvalidInput, PhaseClosed
from pbvote.extensions import db
from pbvote.timeutil import utcnow


def _publish_results(cycle):
    now = utcnow()
    cycle.phase(PhaseKind.VOTING).ends_at = now - timedelta(minutes=1)
    cycle.phase(PhaseKind.RESULTS).starts_at = now - timedelta(minutes=1)
    db.session.commit()


def test_void_by_tracking_code_keeps_the_ballot_and_the_tally_skips_it(voting_budget, make_user, cast):
    budget, ps = voting_budget()
    staff = make_user("staff")
    result = cast(make_user(verified=True), budget, [ps[0], ps[1]])
    kept = cast(make_user(verified=True), budget, [ps[2]])
    spaced = services.format_code(result.tracking_code).lower().replace("-", " ")  # as read over the phone
    ballot = services.void_ballot_by_tracking_code(staff, budget.cycle, spaced, "  Cast with a stolen code  ")
    db.session.commit()
    assert ballot.id == result.ballot.id and ballot.void_reason == "Cast with a stolen code"
    assert [b.id for b in services.countable_ballots(budget)] == [kept.ballot.id]
    assert sorted(c.proposal_id for c in ballot.choices) == sorted([ps[0].id, ps[1].id])  # contents untouched
    listed = services.voided_ballots(budget.cycle)
    assert [(v.budget_name, v.voided_by, v.reason) for v in listed] == [(budget.name, staff.display_name, "Cast with a stolen code")]
    with pytest.raises(Conflict):
        services.void_ballot_by_tracking_code(staff, budget.cycle, result.tracking_code, "Again")


def test_void_refuses_unknown_codes_other_cycles_missing_reasons_and_published_results(voting_budget, make_user, cast):
    budget, ps = voting_budget()
    other_budget, other_ps = voting_budget()
    staff = make_user("staff")
    here = cast(make_user(verified=True), budget, [ps[0]])
    there = cast(make_user(verified=True), other_budget, [other_ps[0]])
    for code in ["", "   ", "NOPE-NOPE", there.tracking_code]:
        with pytest.raises(InvalidInput) as error:
            services.void_ballot_by_tracking_code(staff, budget.cycle, code, "Reason")
        assert error.value.field == "code"
    with pytest.raises(InvalidInput) as error:
        services.void_ballot_by_tracking_code(staff, budget.cycle, here.tracking_code, " ")
    assert error.value.field == "reason"
    _publish_results(budget.cycle)
    with pytest.raises(PhaseClosed):
        services.void_ballot_by_tracking_code(staff, budget.cycle, here.tracking_code, "Too late")
    db.session.rollback()
    assert count_rows(Ballot, Ballot.voided_at.is_not(None)) == 0


def test_void_page_voids_lists_and_audits(client, voting_budget, make_user, login, cast):
    budget, ps = voting_budget()
    result = cast(make_user(verified=True), budget, [ps[3]])
    staff = make_user("staff", name="Clerk Able")
    login(staff)
    path = f"/staff/cycles/{budget.cycle.slug}/void-ballot"
    page = client.get(path)
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "No ballot of this cycle is void." in text
    assert 'for="code"' in text and 'for="reason"' in text

    missing = client.post(path, data={"csrf_token": csrf_token(client, path), "code": "ZZZZ-ZZZZ", "reason": "Stolen code"})
    assert missing.status_code == 400 and "No ballot of this cycle has that tracking code." in missing.get_data(as_text=True)
    no_csrf = client.post(path, data={"code": result.tracking_code, "reason": "Stolen code"})
    assert no_csrf.status_code == 400
    assert count_rows(Ballot, Ballot.voided_at.is_not(None)) == 0

    done = client.post(path, data={"csrf_token": csrf_token(client, path), "code": result.tracking_code, "reason": "Stolen code"})
    assert done.status_code == 303
    listed = client.get(path).get_data(as_text=True)
    assert "The ballot is void: it will not be counted." in listed
    assert "Stolen code" in listed and "Clerk Able" in listed and budget.name in listed
    assert ps[3].title not in listed  # staff never see what the ballot contained
    entry = db.session.scalar(db.select(AuditEntry).where(AuditEntry.action == "ballot.voided"))
    assert entry.actor_id == staff.id and entry.subject_id == result.ballot.id
    assert entry.data.get("reason") == "Stolen code" and result.tracking_code not in str(entry.data)

    again = client.post(path, data={"csrf_token": csrf_token(client, path), "code": result.tracking_code, "reason": "Twice"})
    assert again.status_code == 400 and "This ballot is already void." in again.get_data(as_text=True)


def test_void_page_is_for_staff_only_and_linked_from_the_cycle(app, client, voting_budget, make_user, login):
    budget, _ps = voting_budget()
    path = f"/staff/cycles/{budget.cycle.slug}/void-ballot"
    login(make_user(verified=True))
    assert client.get(path).status_code == 403
    assert client.post(path, data={"csrf_token": csrf_token(client, "/account"), "code": "X", "reason": "Y"}).status_code == 403
    staff_client = app.test_client()
    sign_in(staff_client, make_user("staff"))
    cycle_page = staff_client.get(f"/staff/cycles/{budget.cycle.id}").get_data(as_text=True)
    for link in [path, f"/staff/cycles/{budget.cycle.slug}/access-codes", "/staff/residents"]:
        assert f'href="{link}"' in cycle_page, link
