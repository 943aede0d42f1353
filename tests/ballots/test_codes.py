"""Access codes: generation, storage, redemption, voting with a code alone, voiding, limits."""
from __future__ import annotations

import csv
import io
import math
import re

import pytest
from conftest import count_rows, csrf_token, post_form

from pbvote.audit import AuditEntry
from pbvote.ballots import services
from pbvote.ballots.models import AccessCode, Ballot
from pbvote.ballots.services import Voter
from pbvote.errors import Conflict, InvalidInput, NotAllowed
from pbvote.extensions import db


def test_generated_codes_are_strong_readable_and_stored_only_hashed(voting_budget, make_user):
    budget, _ps = voting_budget()
    batch, codes = services.generate_access_codes(make_user("staff"), budget.cycle, count=50, budget=budget)
    db.session.commit()
    assert len(set(codes)) == 50
    assert services.ACCESS_CODE_LENGTH * math.log2(len(services.CODE_ALPHABET)) >= 40
    assert all(set(code) <= set(services.CODE_ALPHABET) for code in codes)
    assert not set("01OILU") & set(services.CODE_ALPHABET)
    assert re.fullmatch(r"[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}", services.format_code(codes[0]))
    stored = db.session.scalars(db.select(AccessCode)).all()
    assert not any(code in (row.code_hash + row.lookup) for row in stored for code in codes)
    assert services.find_access_code(services.format_code(codes[3]).lower()).batch_id == batch.id
    assert services.find_access_code(codes[3][:-1] + ("2" if codes[3][-1] != "2" else "3")) is None


def test_a_code_alone_votes_once_in_its_budget(voting_budget, code_for, cast, make_proposal, make_cycle):
    budget, ps = voting_budget(cycle={"allow_vote_change": False})
    code, _clear = code_for(budget.cycle, budget=budget)
    cast(code, budget, [ps[0]])
    with pytest.raises(Conflict):
        cast(code, budget, [ps[1]])
    db.session.rollback()
    assert count_rows(Ballot) == 1 and count_rows(AuditEntry, AuditEntry.action == "ballot.cast") == 1
    other = make_cycle("voting").budgets[0]
    with pytest.raises(NotAllowed, match="another budget cycle"):
        services.check_eligible(Voter(code=code), other)


def test_a_district_code_votes_in_its_district_and_city_wide(make_cycle, make_district, code_for):
    north, south = make_district(), make_district()
    cycle = make_cycle("voting", budgets=[
        {"name": "City", "total_amount": 10_000_00},
        {"name": "N", "total_amount": 10_000_00, "district_id": north.id},
        {"name": "S", "total_amount": 10_000_00, "district_id": south.id},
    ])
    code, _clear = code_for(cycle, district=north)
    services.check_eligible(Voter(code=code), cycle.budgets[0])
    services.check_eligible(Voter(code=code), cycle.budgets[1])
    with pytest.raises(NotAllowed):
        services.check_eligible(Voter(code=code), cycle.budgets[2])


def test_redeeming_a_code_verifies_the_account_and_uses_the_code_up(make_cycle, make_district, make_user, code_for):
    north = make_district()
    cycle = make_cycle("voting", budgets=[{"name": "N", "total_amount": 10_000_00, "district_id": north.id}])
    code, clear = code_for(cycle, district=north)
    user = make_user(verified=False)
    services.redeem_access_code(user, services.format_code(clear))
    db.session.commit()
    assert user.is_verified and user.home_district_id == north.id
    with pytest.raises(Conflict, match="already been used"):
        services.redeem_access_code(make_user(), clear)
    with pytest.raises(NotAllowed, match="added to an account"):
        services.check_eligible(Voter(code=code), cycle.budgets[0])


def test_a_code_used_to_vote_cannot_be_redeemed_into_an_account(voting_budget, code_for, cast, make_user):
    budget, ps = voting_budget()
    code, clear = code_for(budget.cycle, budget=budget)
    cast(code, budget, [ps[0]])
    with pytest.raises(Conflict, match="used to vote"):
        services.redeem_access_code(make_user(), clear)


def test_voided_codes_and_batches_no_longer_work(voting_budget, code_for, make_user):
    budget, _ps = voting_budget()
    staff = make_user("staff")
    code, clear = code_for(budget.cycle, budget=budget)
    with pytest.raises(InvalidInput):
        services.void_access_code(staff, clear, "")
    services.void_access_code(staff, clear, "Letter returned to sender")
    db.session.commit()
    with pytest.raises(NotAllowed, match="cancelled"):
        services.check_eligible(Voter(code=code), budget)
    other, other_clear = code_for(budget.cycle, budget=budget)
    services.void_access_code_batch(staff, other.batch)
    db.session.commit()
    with pytest.raises(InvalidInput, match="cancelled"):
        services.open_access_code(other_clear)


def test_entering_a_code_lets_a_visitor_vote_without_an_account(client, voting_budget, code_for):
    budget, ps = voting_budget()
    _code, clear = code_for(budget.cycle, budget=budget)
    response = post_form(client, "/vote/code", {"code": services.format_code(clear).lower()}, token_page="/vote/code")
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"Vote in {budget.name}" in page
    token = csrf_token(client, f"/ballots/{budget.id}")
    cast = client.post(f"/ballots/{budget.id}/cast", data={"csrf_token": token, "projects": [ps[0].id], "token": "k" * 32})
    assert cast.status_code == 200 and count_rows(Ballot) == 1


def test_wrong_codes_are_rate_limited_but_good_ones_are_not(app, client, voting_budget, code_for):
    app.config["PBVOTE_ACCESS_CODE_LIMIT"] = "3 per day"
    budget, _ps = voting_budget()
    token = csrf_token(client, "/vote/code")
    for _ in range(5):
        _code, clear = code_for(budget.cycle, budget=budget)
        assert client.post("/vote/code", data={"csrf_token": token, "code": clear}).status_code == 302
    statuses = [client.post("/vote/code", data={"csrf_token": token, "code": "AAAA-BBBB-CCCC"}).status_code for _ in range(4)]
    assert statuses == [400, 400, 400, 429]


def test_staff_generate_a_printable_sheet_and_a_csv(client, voting_budget, make_user, login):
    budget, _ps = voting_budget()
    login(make_user("staff"))
    page = f"/staff/cycles/{budget.cycle.slug}/access-codes"
    assert client.get(page).status_code == 200
    sheet = post_form(client, page, {"target": f"budget-{budget.id}", "count": 3, "output": "sheet"}, token_page=page)
    assert sheet.status_code == 200
    slips = re.findall(r'<p class="code slip-code">([^<]+)</p>', sheet.get_data(as_text=True))
    assert len(slips) == 3 and all(services.find_access_code(code) for code in slips)
    exported = post_form(client, page, {"target": f"budget-{budget.id}", "count": 4, "output": "csv"}, token_page=page)
    assert exported.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(exported.get_data(as_text=True))))
    assert len(rows) == 4 and all(services.find_access_code(row["code"]) for row in rows)
    assert count_rows(AccessCode) == 7
    listing = client.get(page).get_data(as_text=True)
    assert not any(row["code"] in listing for row in rows)


def test_staff_pages_answer_403_to_residents(client, voting_budget, make_user, login):
    budget, _ps = voting_budget()
    resident = make_user(verified=True)
    login(resident)
    slug = budget.cycle.slug
    for path in [f"/staff/cycles/{slug}/access-codes", f"/staff/cycles/{slug}/ballots.csv", "/staff/residents"]:
        assert client.get(path).status_code == 403, path
    token = csrf_token(client, "/account")
    for path in [f"/staff/cycles/{slug}/access-codes", f"/staff/cycles/{slug}/access-codes/void",
                 "/staff/access-code-batches/1/void", f"/staff/residents/{resident.id}/verify"]:
        assert client.post(path, data={"csrf_token": token}).status_code == 403, path


def test_every_voting_route_declares_its_access(app):
    views = {rule.endpoint: app.view_functions[rule.endpoint] for rule in app.url_map.iter_rules() if rule.endpoint.startswith("ballots.")}
    assert len(views) >= 14
    missing = [name for name, view in views.items() if not hasattr(view, "pbvote_access")]
    assert missing == []
    assert all(views[name].pbvote_access != "public" for name in views if name.startswith("ballots.staff"))


def test_staff_confirm_a_resident(client, make_user, make_district, login):
    district = make_district("Riverside")
    resident = make_user()
    login(make_user("staff"))
    page = client.get("/staff/residents").get_data(as_text=True)
    assert resident.email in page
    response = post_form(client, f"/staff/residents/{resident.id}/verify", {f"u{resident.id}-district": district.id}, token_page="/staff/residents")
    assert response.status_code == 303
    db.session.refresh(resident)
    assert resident.is_verified and resident.home_district_id == district.id
