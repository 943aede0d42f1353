"""Voting in real Chromium: a knapsack ballot with JavaScript, an approval ballot without it on a phone."""
import re

import pytest

from pbvote.ballots.demo import DEMO_VOTERS, demo_codes
from pbvote.ballots.models import Ballot
from pbvote.ballots.services import format_code
from pbvote.demo import DEMO_PASSWORD, load_demo
from pbvote.extensions import db
from playwright.sync_api import expect


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
    expect(summary).to_contain_text("Remaining: €500,000")

    page.get_by_label(re.compile("Protected cycle lane")).check()
    page.get_by_label(re.compile("Plant 400 street trees")).check()
    expect(summary).to_contain_text("Selected: €330,000")
    expect(summary).to_contain_text("Remaining: €170,000")
    page.get_by_label(re.compile("Better lighting on riverside")).check()
    expect(summary).to_contain_text("Remaining: €75,000")
    # €80,000 no longer fits: still focusable, says why (its description), refuses the tick aloud.
    gyms = page.get_by_label(re.compile("Outdoor gyms"))
    assert gyms.evaluate("el => !el.disabled")  # not the disabled property: keyboards still reach it
    expect(gyms).to_have_attribute("aria-disabled", "true")
    expect(gyms).to_have_accessible_description("Does not fit: €75,000 left")
    gyms.focus()
    expect(gyms).to_be_focused()
    page.keyboard.press("Space")  # ticking it by keyboard, as a screen-reader user would
    expect(gyms).not_to_be_checked()
    expect(page.locator("#ballot-alert")).to_contain_text("cannot be added. Does not fit: €75,000 left")
    expect(page.get_by_label(re.compile("Repair café"))).not_to_have_attribute("aria-disabled", "true")
    screenshot("ballot")

    page.get_by_role("button", name="Review my choices").click()
    expect(page.get_by_text("Your ballot is not cast yet")).to_be_visible()
    expect(page.get_by_text("€425,000 of €500,000")).to_be_visible()
    screenshot("review")
    page.get_by_role("button", name="Submit my ballot").click()
    expect(page.get_by_text("Thank you — your ballot is cast.")).to_be_visible()
    expect(page.locator("#tracking-short")).to_have_text(re.compile(r"^[A-Z2-9]{4}-[A-Z2-9]{4}$"))
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
    expect(page.get_by_text("Your access code is valid")).to_be_visible()
    page.get_by_role("link", name="Vote in Riverside").click()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

    # Too many ticks: the server says so beside the projects, nothing is stored.
    for title in ["Riverside community garden", "Renovate the Mill Street", "Zebra crossing", "Pop-up youth café", "Secure bike shelters"]:
        page.get_by_label(re.compile(title)).check()
    page.get_by_role("button", name="Review my choices").click()
    expect(page.get_by_text("Choose at most 4 projects.")).to_be_visible()
    screenshot("error")
    page.get_by_label(re.compile("Secure bike shelters")).uncheck()
    page.get_by_label(re.compile("Pop-up youth café")).uncheck()
    page.get_by_role("button", name="Review my choices").click()
    expect(page.get_by_role("button", name="Submit my ballot")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot("review")
    page.get_by_role("button", name="Submit my ballot").click()
    expect(page.get_by_text("Thank you — your ballot is cast.")).to_be_visible()
    expect(page.get_by_text("Riverside community garden")).to_be_visible()
    screenshot("receipt")
    assert _count_ballots() == before + 1
