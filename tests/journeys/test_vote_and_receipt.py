"""Issue 16, journeys 1 and 2: the vote one click from home, and a receipt checked from anywhere.

Every journey starts at ``/`` and only follows links (or submits the forms) found on the pages."""
from __future__ import annotations

import html
import re

from pbvote.ballots.services import format_code
from tests.conftest import post_form

HREF_RE = re.compile(r'<a\b[^>]*href="([^"]+)"[^>]*>(.*?)</a>', re.S)


def links(response) -> list[tuple[str, str]]:
    """(href, visible text) of every link on the page."""
    text = response.get_data(as_text=True)
    return [(html.unescape(href), " ".join(re.sub(r"<[^>]+>", " ", label).split())) for href, label in HREF_RE.findall(text)]


def follow(client, response, label: str, *, contains: bool = False):
    """Follow the first link whose text is ``label`` (or contains it)."""
    for href, text in links(response):
        if text == label or (contains and label in text):
            answer = client.get(href, follow_redirects=True)
            assert answer.status_code == 200, (href, answer.status_code)
            return answer
    raise AssertionError(f"no link {label!r} on the page: {[t for _h, t in links(response)]}")


def test_vote_is_one_click_from_home_and_the_voter_sees_their_progress(client, login, make_user, make_cycle, make_proposal, cast):
    cycle = make_cycle("voting", budgets=[
        {"name": "City-wide", "total_amount": 100_000_00},
        {"name": "Parks", "total_amount": 50_000_00},
        {"name": "Schools", "total_amount": 50_000_00},
    ])
    proposals = [make_proposal(cycle, budget=budget, cost=10_000_00) for budget in cycle.budgets]
    voter = make_user(verified=True)
    login(voter)
    home = client.get("/")
    assert "You can vote in 3 budgets." in home.get_data(as_text=True)
    page = follow(client, home, f"Vote {cycle.name}")
    body = page.get_data(as_text=True)
    assert "Not voted yet" in body and "You can vote until" in body
    ballot = follow(client, page, "Vote in Parks")
    assert "Parks" in ballot.get_data(as_text=True)

    cast(voter, cycle.budgets[0], [proposals[0]])
    cast(voter, cycle.budgets[1], [proposals[1]])
    body = client.get("/").get_data(as_text=True)
    assert "You voted in 2 of 3 budgets you can vote in." in body
    page = follow(client, client.get(f"/cycles/{cycle.slug}"), f"Vote {cycle.name}")
    body = page.get_data(as_text=True)
    assert "You voted in 2 of 3 budgets you can vote in." in body
    assert body.count("You can change your vote until") == 2


def test_header_vote_link_leads_to_the_open_vote_and_proposals_on_the_ballot_call_to_vote(client, make_cycle, make_proposal):
    cycle = make_cycle("voting")
    proposal = make_proposal(cycle, title="Trees for Elm Street")
    page = follow(client, client.get("/"), "Vote")  # the header's link: the one cycle voting
    assert f"Vote: {cycle.name}" in page.get_data(as_text=True)
    listing = follow(client, client.get(f"/cycles/{cycle.slug}"), "Trees for Elm Street")
    assert "Vote in City-wide" in listing.get_data(as_text=True)
    ballot_page = follow(client, listing, "Vote in City-wide")  # anonymous: sent to sign in or use a code
    assert "Sign in or enter your access code to vote." in ballot_page.get_data(as_text=True)
    assert proposal.id


def test_no_vote_call_outside_voting_and_header_link_says_when_voting_opens(client, make_cycle):
    cycle = make_cycle("submission")
    home = client.get("/")
    assert f"Vote {cycle.name}" not in [text for _h, text in links(home)]
    page = follow(client, home, "Vote")
    body = page.get_data(as_text=True)
    assert "No vote is open right now." in body and "voting opens on" in body


def _check(client, code):
    page = follow(client, client.get("/"), "Check your ballot with the tracking code on your receipt")
    assert 'name="tracking_code"' in page.get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.get_data(as_text=True)).group(1)
    response = client.post("/receipts/check", data={"csrf_token": token, "tracking_code": code})
    assert response.status_code == 303 and response.headers["Location"].endswith("/receipts/check")
    return client.get(response.headers["Location"]).get_data(as_text=True)


def test_anyone_checks_a_ballot_by_its_tracking_code_without_seeing_its_choices(app, client, make_user, voting_budget, cast):
    budget, proposals = voting_budget()
    voter = make_user(verified=True)
    result = cast(voter, budget, [proposals[0]])
    body = _check(client, format_code(result.tracking_code).lower())  # any device, any case
    assert "is counted" in body and "City-wide" in body
    assert proposals[0].title not in body
    body = _check(client, "AAAA-BBBB-CCCC")
    assert "No ballot has the tracking code AAAA" in body

    newer = cast(voter, budget, [proposals[1]])
    assert "was replaced by a later ballot" in _check(client, result.tracking_code)
    assert "is counted" in _check(client, newer.tracking_code)


def test_receipt_check_is_reached_from_the_cycle_page_and_rejects_an_empty_code(client, make_cycle):
    cycle = make_cycle("results")
    page = follow(client, client.get(f"/cycles/{cycle.slug}"), "Check your ballot")
    assert "tracking_code" in page.get_data(as_text=True)
    response = post_form(client, "/receipts/check", {"tracking_code": ""})
    assert response.status_code == 400


def test_my_votes_lists_participations_and_only_this_devices_receipts(client, login, make_user, voting_budget, cast):
    budget, proposals = voting_budget()
    voter = make_user(verified=True)
    cast(voter, budget, [proposals[0]])
    login(voter)
    account = follow(client, client.get("/"), "My account")
    page = follow(client, account, "My votes and receipts")
    body = page.get_data(as_text=True)
    assert "City-wide" in body and "Not on this device" in body
    assert "does not keep your tracking codes" in body


def test_a_cycle_with_a_minimum_age_asks_the_year_of_birth_as_required_and_says_why(client, login, make_user, voting_budget):
    budget, _proposals = voting_budget(cycle={"minimum_age": 16})
    voter = make_user(verified=True)
    login(voter)
    page = follow(client, client.get("/"), f"Vote {budget.cycle.name}")
    body = page.get_data(as_text=True)
    assert "Required to vote here: this vote is open to residents who are at least 16 years old" in body
    assert re.search(r'<input[^>]*name="age-birth_year"[^>]*required', body)
    path = f"/cycles/{budget.cycle.slug}/birth-year"
    assert post_form(client, path, {"age-birth_year": ""}, token_page="/").status_code == 400
    response = post_form(client, path, {"age-birth_year": "2000"}, token_page="/")
    assert response.status_code == 303
    body = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "age-birth_year" not in body and "Vote in City-wide" in body
