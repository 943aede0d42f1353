"""Results in real Chromium: staff previews and publishes; a resident opens the results, downloads
the ballot file (its SHA-256 is the one the page shows) and checks their tracking code."""
import hashlib
from datetime import timedelta
from pathlib import Path

from conftest import PASSWORD
from pbvote.ballots import services as ballot_services
from pbvote.ballots.services import Choice, Voter
from pbvote.cycles.models import PhaseKind
from pbvote.extensions import db
from pbvote.timeutil import utcnow
from playwright.sync_api import expect


def sign_in(page, base, email):
    page.goto(base + "/sign-in")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_staff_publishes_and_a_resident_checks_the_result(app, live_server, page, browser, screenshot,
                                                           make_cycle, make_proposal, make_user, tmp_path):
    cycle = make_cycle("voting", budgets=[{"name": "City", "total_amount": 100_000_00, "min_choices": 1}])
    budget = cycle.budgets[0]
    park = make_proposal(cycle, cost=60_000_00, budget=budget, title="A park by the river")
    bench = make_proposal(cycle, cost=50_000_00, budget=budget, title="Benches on Main Street")
    resident = make_user(email="robin@example.org", verified=True)
    with app.test_request_context("/"):
        mine = ballot_services.cast_ballot(Voter(user=resident), budget, [Choice(park.id)],
                                           ballot_services.new_submission_token())
        db.session.commit()
        for _ in range(2):
            ballot_services.cast_ballot(Voter(user=make_user(verified=True)), budget, [Choice(park.id), Choice(bench.id)],
                                        ballot_services.new_submission_token())
            db.session.commit()
    now = utcnow()
    cycle.phase(PhaseKind.VOTING).ends_at = now - timedelta(minutes=2)
    cycle.phase(PhaseKind.RESULTS).starts_at = now - timedelta(minutes=2)
    db.session.commit()
    db.session.rollback()
    make_user("staff", email="staff@example.org")
    db.session.rollback()

    sign_in(page, live_server, "staff@example.org")
    page.goto(f"{live_server}/staff/budgets/{budget.id}/results")
    expect(page.get_by_role("heading", name="Publish the result")).to_be_visible()
    expect(page.get_by_text("Method of Equal Shares").first).to_be_visible()
    screenshot("preview")
    page.get_by_role("button", name="Publish the result").click()
    expect(page.get_by_text("Result published (version 1).")).to_be_visible()

    resident_page = browser.new_context().new_page()
    resident_page.goto(f"{live_server}/cycles/{cycle.slug}")
    resident_page.get_by_role("link", name="Results").click()
    expect(resident_page.get_by_role("heading", name="Results: City")).to_be_visible()
    expect(resident_page.get_by_role("row", name="A park by the river")).to_contain_text("Funded")
    expect(resident_page.get_by_role("row", name="Benches on Main Street")).to_contain_text("Not funded: needed €50,000")
    with resident_page.expect_download() as download:
        resident_page.get_by_role("link", name="Anonymous ballots and projects (pabulib .pb)").click()
    saved = Path(download.value.path())
    digest = hashlib.sha256(saved.read_bytes()).hexdigest()
    expect(resident_page.get_by_text(digest)).to_be_visible()
    assert saved.read_text(encoding="utf-8").startswith("META")

    resident_page.get_by_role("link", name="Check my tracking code").click()
    resident_page.get_by_label("Tracking code").fill(mine.tracking_code)
    resident_page.get_by_role("button", name="Check my ballot").click()
    expect(resident_page.get_by_role("status")).to_contain_text("counted")
    # the fingerprint to find in the public list, and the list one click away
    expect(resident_page.locator("code.fingerprint")).to_have_text(mine.ballot.tracking_hash)
    resident_page.get_by_role("link", name="list of counted ballots").click()
    expect(resident_page.get_by_text(mine.ballot.tracking_hash)).to_be_visible()
    resident_page.context.close()
