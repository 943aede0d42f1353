"""The ballot pages through the client: review then submit, tampered forms, receipts, codes."""
from __future__ import annotations

import re

import pytest
from conftest import count_rows, csrf_token

from pbvote.ballots.models import Ballot, BallotChoice, Participation

TOKEN_RE = re.compile(r'name="token" value="([^"]+)"')


def form_token(response) -> str:
    match = TOKEN_RE.search(response.get_data(as_text=True))
    assert match, "no submission token on the review page"
    return match.group(1)


@pytest.fixture
def resident(make_user, login):
    user = make_user(verified=True)
    login(user)
    return user


def post(client, path, data, token_page):
    data = dict(data)
    data.setdefault("csrf_token", csrf_token(client, token_page))
    return client.post(path, data=data)


def test_approval_review_then_submit_shows_a_receipt(client, voting_budget, resident):
    budget, ps = voting_budget("approval", max_choices=2)
    page = client.get(f"/ballots/{budget.id}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "You can tick up to 2 projects." in text and "€100,000" in text
    review = post(client, f"/ballots/{budget.id}/review", {"projects": [ps[0].id, ps[2].id]}, f"/ballots/{budget.id}")
    assert review.status_code == 200 and "Submit my ballot" in review.get_data(as_text=True)
    assert count_rows(Ballot) == 0  # the review step stores nothing
    token = form_token(review)
    data = {"projects": [ps[0].id, ps[2].id], "token": token}
    first = post(client, f"/ballots/{budget.id}/cast", data, f"/ballots/{budget.id}")
    assert first.status_code == 200
    body = first.get_data(as_text=True)
    assert "Thank you — your ballot is cast." in body and ps[2].title in body
    again = post(client, f"/ballots/{budget.id}/cast", data, f"/ballots/{budget.id}")  # double click
    assert again.status_code == 200
    code = 'id="tracking-code">'
    assert body.split(code)[1][:40] == again.get_data(as_text=True).split(code)[1][:40]
    assert count_rows(Ballot) == 1 and count_rows(BallotChoice) == 2
    receipt = client.get(f"/ballots/{budget.id}/receipt")
    assert receipt.status_code == 200 and ps[0].title in receipt.get_data(as_text=True)


def test_review_and_receipt_number_the_choices_only_for_a_ranking(client, voting_budget, resident):
    approval, ps = voting_budget("approval", max_choices=2)
    review = post(client, f"/ballots/{approval.id}/review", {"projects": [ps[0].id, ps[1].id]}, f"/ballots/{approval.id}")
    assert '<ul class="review-choices">' in review.get_data(as_text=True)
    ranking, rs = voting_budget("ranking", max_choices=2)
    data = {f"rank_{rs[1].id}": "1", f"rank_{rs[0].id}": "2"}
    review = post(client, f"/ballots/{ranking.id}/review", data, f"/ballots/{ranking.id}")
    text = review.get_data(as_text=True)
    assert '<ol class="review-choices">' in text and text.index(rs[1].title) < text.index(rs[0].title)
    receipt = post(client, f"/ballots/{ranking.id}/cast", {**data, "token": form_token(review)}, f"/ballots/{ranking.id}")
    text = receipt.get_data(as_text=True)
    assert '<ol class="review-choices">' in text and text.index(rs[1].title) < text.index(rs[0].title)


def test_ballot_page_orders_projects_stably_per_voter(client, voting_budget, make_user, login):
    budget, ps = voting_budget(costs=[1_000_00] * 8)

    def order():
        text = client.get(f"/ballots/{budget.id}").get_data(as_text=True)
        return [p.id for p in sorted(ps, key=lambda p: text.index(f'id="project-{p.id}"'))]

    login(make_user(verified=True))
    first = order()
    assert order() == first
    orders = {tuple(first)}
    for _ in range(4):
        client.post("/sign-out", data={"csrf_token": csrf_token(client, "/account")})
        login(make_user(verified=True))
        orders.add(tuple(order()))
    assert len(orders) > 1


TAMPERED = [
    ("knapsack", lambda ps, other: {"projects": [p.id for p in ps]}, "cost more than the budget"),
    ("approval", lambda ps, other: {"projects": [p.id for p in ps]}, "at most 2 projects"),
    ("approval", lambda ps, other: {}, "at least 1 project"),
    ("approval", lambda ps, other: {"projects": [other.id]}, "not on this ballot"),
    ("approval", lambda ps, other: {"projects": [ps[0].id, ps[0].id]}, "more than once"),
    ("approval", lambda ps, other: {"projects": ["999999"]}, "not on this ballot"),
    ("approval", lambda ps, other: {"projects": ["1; DROP TABLE"]}, "could not be coerced"),
    ("cumulative", lambda ps, other: {f"points_{ps[0].id}": "-3"}, "0 or more"),
    ("cumulative", lambda ps, other: {f"points_{ps[0].id}": "two"}, "Not a valid integer"),
    ("cumulative", lambda ps, other: {f"points_{ps[0].id}": "5", f"points_{other.id}": "5"}, "not on this ballot"),
    ("cumulative", lambda ps, other: {f"points_{ps[0].id}": "8", f"points_{ps[1].id}": "8"}, "only 10"),
    ("ranking", lambda ps, other: {f"rank_{ps[0].id}": "1", f"rank_{ps[1].id}": "1"}, "one project only"),
    ("ranking", lambda ps, other: {f"rank_{ps[0].id}": "x"}, "Invalid Choice"),
    ("choose_one", lambda ps, other: {"projects": [ps[0].id, ps[1].id]}, "exactly one"),
]


@pytest.mark.parametrize("step", ["review", "cast"])
@pytest.mark.parametrize(("kind", "data", "message"), TAMPERED)
def test_tampered_forms_get_a_clear_error_and_store_nothing(client, voting_budget, make_cycle, make_proposal, resident,
                                                            kind, data, message, step):
    budget, ps = voting_budget(kind, max_choices=None if kind == "knapsack" else 2, points_total=10)
    other = make_proposal(make_cycle("voting"))
    payload = data(ps, other)
    payload["token"] = "t" * 32
    response = post(client, f"/ballots/{budget.id}/{step}", payload, f"/ballots/{budget.id}")
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert count_rows(Ballot) == count_rows(Participation) == 0


def test_cast_without_csrf_token_is_refused(client, voting_budget, resident):
    budget, ps = voting_budget()
    response = client.post(f"/ballots/{budget.id}/cast", data={"projects": [ps[0].id], "token": "t" * 32})
    assert response.status_code == 400 and "form has expired" in response.get_data(as_text=True)
    assert count_rows(Ballot) == 0


@pytest.mark.parametrize("step", ["review", "cast"])
def test_ballot_and_review_pages_carry_the_app_wide_csrf_token_and_a_wrong_one_is_refused(
        client, voting_budget, resident, step):
    """The ballot forms leave CSRF to the app-wide check: the pages must still carry its token."""
    budget, ps = voting_budget()
    page = client.get(f"/ballots/{budget.id}").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    review = client.post(f"/ballots/{budget.id}/review", data={"csrf_token": token, "projects": [ps[0].id]})
    assert review.status_code == 200
    assert re.search(r'name="csrf_token" value="([^"]+)"', review.get_data(as_text=True))
    forged = client.post(f"/ballots/{budget.id}/{step}",
                         data={"csrf_token": token[:-4] + "AAAA", "projects": [ps[0].id], "token": "f" * 32})
    assert forged.status_code == 400 and "form has expired" in forged.get_data(as_text=True)
    assert count_rows(Ballot) == 0


def test_second_ballot_without_vote_change_answers_409(client, voting_budget, resident):
    budget, ps = voting_budget(cycle={"allow_vote_change": False})
    page = f"/ballots/{budget.id}"
    assert post(client, f"{page}/cast", {"projects": [ps[0].id], "token": "a" * 32}, page).status_code == 200
    response = post(client, f"{page}/cast", {"projects": [ps[1].id], "token": "b" * 32}, "/account")
    assert response.status_code == 409 and "already voted" in response.get_data(as_text=True)
    assert count_rows(Ballot) == 1


def test_ballot_page_prefills_a_live_ballot_to_change_it(client, voting_budget, resident):
    budget, ps = voting_budget(cycle={"allow_vote_change": True})
    page = f"/ballots/{budget.id}"
    post(client, f"{page}/cast", {"projects": [ps[1].id], "token": "a" * 32}, page)
    text = client.get(page).get_data(as_text=True)
    assert "Submitting again replaces your ballot" in text
    assert f'value="{ps[1].id}" id="project-{ps[1].id}" data-cost="{ps[1].ballot_amount}"\n                     checked' in text
    assert post(client, f"{page}/cast", {"projects": [ps[2].id], "token": "b" * 32}, page).status_code == 200
    assert count_rows(Ballot) == 2 and count_rows(Ballot, Ballot.superseded_at.is_(None)) == 1


def test_anonymous_visitor_is_sent_to_the_voting_page(client, voting_budget):
    budget, _ps = voting_budget()
    response = client.get(f"/ballots/{budget.id}")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/cycles/{budget.cycle.slug}/vote")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Sign in to vote" in page and "Access code" in page


def test_voting_page_lists_budgets_by_eligibility(client, make_cycle, make_district, make_user, login):
    north, south = make_district("North"), make_district("South")
    cycle = make_cycle("voting", budgets=[
        {"name": "Whole city", "total_amount": 100_000_00},
        {"name": "North budget", "total_amount": 50_000_00, "district_id": north.id},
        {"name": "South budget", "total_amount": 50_000_00, "district_id": south.id},
    ])
    login(make_user(district=north, verified=True))
    text = client.get(f"/cycles/{cycle.slug}/vote").get_data(as_text=True)
    assert "Vote in Whole city" in text and "Vote in North budget" in text
    assert "Vote in South budget" not in text and "home district only" in text


def _hold_code(client, code_id: int) -> None:
    with client.session_transaction() as session:
        session["voter_code_id"] = code_id


def test_cast_with_a_code_loads_budget_and_code_together_and_answers_like_the_separate_loads(
        client, voting_budget, make_cycle, code_for):
    """The cast loads the budget and locks the code in one statement; what a visitor sees when the
    budget or the code is missing stays as before."""
    budget, ps = voting_budget()
    code, _clear = code_for(budget.cycle, budget=budget)
    _hold_code(client, code.id)
    token = csrf_token(client, f"/ballots/{budget.id}")
    assert client.post(f"/ballots/{budget.id + 99}/cast", data={"csrf_token": token, "projects": [ps[0].id],
                                                                 "token": "a" * 32}).status_code == 404
    hidden = make_cycle("voting", published=False, budgets=[{"name": "Hidden", "total_amount": 1_000_00}])
    assert client.post(f"/ballots/{hidden.budgets[0].id}/cast", data={"csrf_token": token, "projects": [ps[0].id],
                                                                       "token": "a" * 32}).status_code == 404
    _hold_code(client, code.id + 99)  # a code that does not exist (any more)
    response = client.post(f"/ballots/{budget.id}/cast", data={"csrf_token": token, "projects": [ps[0].id], "token": "a" * 32})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/cycles/{budget.cycle.slug}/vote")
    _hold_code(client, code.id)
    response = client.post(f"/ballots/{budget.id}/cast", data={"csrf_token": token, "projects": [ps[0].id], "token": "a" * 32})
    assert response.status_code == 200 and "Thank you — your ballot is cast." in response.get_data(as_text=True)
    assert count_rows(Participation, Participation.access_code_id == code.id) == 1 and count_rows(Ballot) == 1


def test_code_cast_audits_the_budget_and_the_receipt_links_sign_in_without_the_post_only_url(
        client, voting_budget, code_for):
    """The cast reads budget and code as snapshots: the audit entry still names the budget as the
    model does; the receipt (the answer to a POST) must not send a later sign-in back to /cast."""
    from pbvote.audit import AuditEntry
    from pbvote.extensions import db

    budget, ps = voting_budget()
    code, _clear = code_for(budget.cycle, budget=budget)
    _hold_code(client, code.id)
    token = csrf_token(client, f"/ballots/{budget.id}")
    response = client.post(f"/ballots/{budget.id}/cast", data={"csrf_token": token, "projects": [ps[0].id], "token": "c" * 32})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'href="/auth/sign-in"' in page or 'href="/sign-in"' in page, re.findall(r'href="[^"]*sign[^"]*"', page)
    assert "next=" not in page
    entry = db.session.scalar(db.select(AuditEntry).where(AuditEntry.action == "ballot.cast"))
    assert (entry.subject_type, entry.subject_id, entry.actor_id) == ("Budget", budget.id, None)


def _receipt_of(client, budget, data):
    review = post(client, f"/ballots/{budget.id}/review", data, f"/ballots/{budget.id}")
    assert review.status_code == 200, review.get_data(as_text=True)
    cast = post(client, f"/ballots/{budget.id}/cast", {**data, "token": form_token(review)}, f"/ballots/{budget.id}")
    assert cast.status_code == 200
    return cast.get_data(as_text=True)


def _choices_of(page: str) -> str:
    return page.split("Your choices", 1)[1].split("</div>", 1)[0]


def test_kept_receipt_frames_carry_each_voters_own_codes_choices_points_and_total(app, client, voting_budget, make_user, login):
    """The receipt page is rendered from a kept frame (per budget, status and blankness) with the
    codes, time, choices and total filled in: a second voter of the same budget sees only their own."""
    budget, ps = voting_budget("cumulative", points_total=10, max_choices=None)
    login(make_user(verified=True))
    first = _receipt_of(client, budget, {f"points_{ps[0].id}": "7", f"points_{ps[1].id}": "3"})
    other = app.test_client()
    from conftest import sign_in

    sign_in(other, make_user(verified=True))
    second = _receipt_of(other, budget, {f"points_{ps[2].id}": "1"})

    mine, theirs = _choices_of(first), _choices_of(second)
    assert f"{ps[0].title} — €30,000 · 7 points" in mine and f"{ps[1].title} — €40,000 · 3 points" in mine
    assert "Total: €70,000" in mine and ps[2].title not in mine
    assert f"{ps[2].title} — €50,000 · 1 point</li>" in theirs and "Total: €50,000" in theirs
    assert ps[0].title not in theirs and "7 points" not in theirs
    codes = [re.search(r'id="tracking-code">([^<]+)<', page).group(1) for page in (first, second)]
    assert codes[0] != codes[1]
    # The printable receipt (a GET, the same kept frame) shows the same choices again.
    again = client.get(f"/ballots/{budget.id}/receipt").get_data(as_text=True)
    assert _choices_of(again) == mine and codes[0] in again and "Thank you" not in again


def test_receipt_of_a_ranking_shows_ranks_and_of_an_empty_ballot_says_blank(client, voting_budget, resident):
    ranking, rs = voting_budget("ranking", max_choices=2)
    page = _receipt_of(client, ranking, {f"rank_{rs[2].id}": "1", f"rank_{rs[0].id}": "2"})
    choices = _choices_of(page)
    assert f"{rs[2].title} — €50,000 · rank 1" in choices and f"{rs[0].title} — €30,000 · rank 2" in choices
    assert choices.index(rs[2].title) < choices.index(rs[0].title)

    blank_budget, _bs = voting_budget("approval", min_choices=0, max_choices=2)
    page = _receipt_of(client, blank_budget, {})
    assert "A blank ballot." in _choices_of(page) and "Total: €0" in page and "review-choices" not in _choices_of(page)
