"""Issue 16's journeys in real Chromium, at desktop and phone widths, each starting at ``/`` and
following links; screenshots kept in test-artifacts/.  And an axe-core check of the main pages."""
from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from pbvote.ballots.demo import DEMO_VOTERS, demo_codes
from pbvote.ballots.services import format_code
from pbvote.demo import DEMO_CYCLE_SLUG, DEMO_PASSWORD, load_demo
from pbvote.extensions import db
from pbvote.proposals.models import Comment
from playwright.sync_api import expect
from tests.conftest import ARTIFACTS

WIDTHS = [pytest.param("desktop", id="desktop"), pytest.param("phone", id="phone", marks=pytest.mark.phone)]
CYCLE = "Greenhill Participatory Budget 2027"


def _sign_in(page, live_server, email):
    page.goto(live_server + "/")
    page.get_by_role("link", name="Sign in").first.click()
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".signed-in-as")).to_be_visible()


def _fits(page, width):
    if width == "phone":
        assert page.evaluate("document.documentElement.scrollWidth") <= 390


@pytest.mark.parametrize("width", WIDTHS)
def test_a_resident_votes_from_the_home_page_and_sees_their_progress(app, live_server, page, screenshot, width):
    load_demo()
    _sign_in(page, live_server, "resident@demo.pbvote.org")
    page.goto(live_server + "/")
    page.get_by_role("link", name=f"Vote {CYCLE}").click()
    expect(page.get_by_text("Not voted yet").first).to_be_visible()
    _fits(page, width)
    screenshot("vote-page")
    page.get_by_role("link", name="Vote in Riverside").click()
    page.get_by_label(re.compile("Riverside community garden")).check()
    page.get_by_role("button", name="Review my choices").click()
    page.get_by_role("button", name="Submit my ballot").click()
    expect(page.get_by_text("Thank you — your ballot is cast.")).to_be_visible()
    page.get_by_role("link", name=re.compile("^pbvote$|Budget cycles")).first.click()
    expect(page.get_by_text(re.compile(r"You voted in 1 of \d budgets you can vote in\."))).to_be_visible()
    _fits(page, width)
    screenshot("home-after-voting")


@pytest.mark.parametrize("width", WIDTHS)
def test_anyone_checks_a_receipt_from_another_device(app, live_server, browser, page, screenshot, width):
    load_demo()
    page.goto(live_server + "/")
    page.get_by_role("link", name=f"Vote {CYCLE}").click()
    page.get_by_label("Access code").fill(format_code(demo_codes()[DEMO_VOTERS + 1]))
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("link", name="Vote in Riverside").click()
    page.get_by_label(re.compile("Riverside community garden")).check()
    page.get_by_role("button", name="Review my choices").click()
    page.get_by_role("button", name="Submit my ballot").click()
    tracking = page.locator("#tracking-code").text_content()
    assert tracking and len(tracking) > 20, "the receipt shows the full tracking code"
    screenshot("receipt")

    other = browser.new_context(viewport=page.viewport_size)  # another device: no session at all
    try:
        phone = other.new_page()
        phone.goto(live_server + "/")
        phone.get_by_role("link", name="Check your ballot with the tracking code on your receipt").click()
        phone.get_by_label("Tracking code").fill(tracking.lower())
        phone.get_by_role("button", name="Check").click()
        expect(phone.get_by_text(re.compile(r"in Riverside .* is counted\."))).to_be_visible()
        expect(phone.get_by_text("Riverside community garden")).to_have_count(0)  # never the choices
        assert phone.url.endswith("/receipts/check")  # answered by a redirect: Reload does not resubmit
        phone.reload()
        expect(phone.locator(".receipt-answer")).to_contain_text("is counted")
        _fits(phone, width)
        ARTIFACTS.mkdir(exist_ok=True)
        phone.screenshot(path=str(ARTIFACTS / f"test_anyone_checks_a_receipt_from_another_device[{width}]-check.png"), full_page=True)
    finally:
        other.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_a_moderator_hides_a_reported_comment_from_the_header_queue(app, live_server, page, screenshot, width):
    load_demo()
    comment = db.session.scalar(sa.select(Comment).where(Comment.hidden_at.is_(None)).order_by(Comment.id).limit(1))
    comment.flag_count = 1
    db.session.commit()
    _sign_in(page, live_server, "moderator@demo.pbvote.org")
    page.get_by_role("link", name="Moderation").click()
    card = page.locator(f"#comment-{comment.id}")
    card.get_by_label("Reason (kept in the moderation log)").fill("Off topic")
    card.get_by_role("button", name=re.compile("^Hide")).click()
    expect(page.get_by_text("Comment hidden.")).to_be_visible()
    expect(page.locator(f"#comment-{comment.id}").get_by_role("button", name=re.compile("^Restore"))).to_be_visible()
    _fits(page, width)
    screenshot("moderation")


@pytest.mark.parametrize("width", WIDTHS)
def test_staff_confirm_before_starting_a_phase_early(app, live_server, page, screenshot, width):
    load_demo()
    _sign_in(page, live_server, "staff@demo.pbvote.org")
    page.get_by_role("link", name="Manage cycles").click()
    page.get_by_role("link", name=CYCLE).first.click()
    expect(page.get_by_text("Now: Voting")).to_be_visible()
    page.get_by_role("link", name=re.compile("^Start .* now$")).click()
    expect(page.get_by_text("This cannot be undone.")).to_be_visible()
    _fits(page, width)
    screenshot("confirm-phase")
    page.get_by_role("link", name="Cancel").click()
    expect(page.get_by_text("Now: Voting")).to_be_visible()


MAIN_PAGES = ["/", f"/cycles/{DEMO_CYCLE_SLUG}", f"/cycles/{DEMO_CYCLE_SLUG}/vote", f"/cycles/{DEMO_CYCLE_SLUG}/proposals",
              "/receipts/check", "/vote", "/sign-in", "/sign-up"]


@pytest.mark.parametrize("width", WIDTHS)
def test_main_pages_have_no_serious_accessibility_violations(app, live_server, page, width):
    from axe_playwright_python.sync_playwright import Axe

    load_demo()
    axe = Axe()
    problems = []
    for path in MAIN_PAGES:
        page.goto(live_server + path)
        for violation in axe.run(page).response["violations"]:
            if violation["impact"] in ("serious", "critical"):
                problems.append(f"{path}: {violation['id']} ({violation['impact']}): "
                                f"{[n['target'] for n in violation['nodes']][:3]}")
    assert not problems, "\n".join(problems)
