"""Voting in real Chromium: a knapsack ballot with JavaScript, an approval ballot without it on a phone."""
import re

import pytest

from pbvote.ballots.demo import DEMO_VOTERS, demo_codes
from pbvote.ballots.models import Ballot
from pbvote.ballots.services import format_code
from pbvote.demo import DEMO_PASSWORD, load_demo
from pbvote.extensions import db


def _count_ballots() -> int:
    # Outside a request the test's transaction would begin IMMEDIATE (a write lock): end it at once
    # so the server thread can write.
    try:
        return db.session.scalar(db.select(db.func.count()).select_from(Ballot))
    finally:
        db.session.rollback()


def test_knapsack_ballot_with_javascript_shows_the_running_total(app, live_server, page, screenshot):
    load_demo()
    before = _count_ballots()
    page.goto(live_server + "/sign-in")
    page.get_by_label("E-mail address").fill("resident@demo.pbvote.org")
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto(live_server + "/cycles/greenhill-2027/vote")
    page.get_by_role("link", name="Vote in City-wide").click()
    summary = page.locator("#ballot-summary-text")
    assert "Remaining: €500,000" in summary.inner_text()

    page.get_by_label(re.compile("Protected cycle lane")).check()
    page.get_by_label(re.compile("Plant 400 street trees")).check()
    assert "Selected: €330,000" in summary.inner_text() and "Remaining: €170,000" in summary.inner_text()
    page.get_by_label(re.compile("Better lighting on riverside")).check()
    assert "Remaining: €75,000" in summary.inner_text()
    assert page.get_by_label(re.compile("Outdoor gyms")).is_disabled()  # €80,000 no longer fits
    assert page.get_by_label(re.compile("Repair café")).is_enabled()
    screenshot("ballot")

    page.get_by_role("button", name="Review my choices").click()
    assert page.get_by_text("Your ballot is not cast yet").is_visible()
    assert page.get_by_text("€425,000 of €500,000").is_visible()
    screenshot("review")
    page.get_by_role("button", name="Submit my ballot").click()
    assert page.get_by_text("Thank you — your ballot is cast.").is_visible()
    assert re.fullmatch(r"[A-Z2-9]{4}-[A-Z2-9]{4}", page.locator("#tracking-short").inner_text())
    screenshot("receipt")
    assert _count_ballots() == before + 1


@pytest.mark.nojs
@pytest.mark.phone
def test_approval_ballot_without_javascript_on_a_phone(app, live_server, page, screenshot):
    load_demo()
    before = _count_ballots()
    page.goto(live_server + "/cycles/greenhill-2027/vote")
    page.get_by_label("Access code").fill(format_code(demo_codes()[DEMO_VOTERS]).lower())
    page.get_by_role("button", name="Continue").click()
    assert page.get_by_text("Your access code is valid").is_visible()
    page.get_by_role("link", name="Vote in Riverside").click()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

    # Too many ticks: the server says so beside the projects, nothing is stored.
    for title in ["Riverside community garden", "Renovate the Mill Street", "Zebra crossing", "Pop-up youth café", "Secure bike shelters"]:
        page.get_by_label(re.compile(title)).check()
    page.get_by_role("button", name="Review my choices").click()
    assert page.get_by_text("Choose at most 4 projects.").is_visible()
    screenshot("error")
    page.get_by_label(re.compile("Secure bike shelters")).uncheck()
    page.get_by_label(re.compile("Pop-up youth café")).uncheck()
    page.get_by_role("button", name="Review my choices").click()
    assert page.get_by_role("button", name="Submit my ballot").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot("review")
    page.get_by_role("button", name="Submit my ballot").click()
    assert page.get_by_text("Thank you — your ballot is cast.").is_visible()
    assert page.get_by_text("Riverside community garden").is_visible()
    screenshot("receipt")
    assert _count_ballots() == before + 1
