"""A resident's path in real Chromium: sign up, propose, invite a co-author, comment; staff reviews."""
import re

from pbvote.extensions import db
from pbvote.proposals.models import Proposal, ProposalStatus
from conftest import PASSWORD
from playwright.sync_api import expect


def sign_in(page, base, email):
    page.goto(base + "/sign-in")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_resident_proposes_and_staff_marks_feasible(app, live_server, page, screenshot, make_cycle, make_user):
    cycle = make_cycle("submission")
    make_user(email="kim@example.org", name="Kim Neighbour")
    make_user("staff", email="staff@example.org", name="Sam Staff")
    slug = cycle.slug
    db.session.rollback()  # outside requests SQLite begins IMMEDIATE: hold no lock while the server writes

    page.goto(live_server + "/sign-up")
    page.get_by_label("Your name").fill("Nadia Newcomer")
    page.get_by_label("E-mail address").fill("nadia@example.org")
    page.get_by_label("Password", exact=True).fill("a long enough password")
    page.get_by_label("Repeat the password").fill("a long enough password")
    page.get_by_role("button", name="Create account").click()

    page.goto(live_server + f"/cycles/{slug}")
    page.get_by_role("link", name="Make a proposal").click()
    page.get_by_label("Title").fill("Benches along the canal")
    page.get_by_label("Description").fill("Ten **benches** every 200 m along the canal path, for older walkers.")
    page.get_by_label("Estimated cost").fill("15000")
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_text("Draft saved")).to_be_visible()
    page.get_by_label("E-mail address or name of the co-author").fill("Kim Neighbour")
    page.get_by_role("button", name="Invite co-author").click()
    expect(page.get_by_text("Kim Neighbour has been invited")).to_be_visible()
    page.get_by_role("button", name="Submit proposal").click()
    expect(page.get_by_text("Your proposal is now public")).to_be_visible()
    expect(page.locator(".prose strong", has_text="benches")).to_be_visible()
    page.get_by_label("Your comment").fill("Happy to hear where you would like them!")
    page.get_by_role("button", name="Publish comment").click()
    expect(page.locator(".comment-by-author")).to_be_visible()
    screenshot("proposal")
    proposal_url = page.url.split("#")[0]

    page.get_by_role("button", name="Sign out").click()
    sign_in(page, live_server, "staff@example.org")
    page.get_by_role("link", name="Manage cycles").click()
    page.get_by_role("link", name="Review proposals").first.click()
    page.get_by_role("link", name=re.compile("Benches along the canal")).click()
    page.get_by_label("Feasible: goes on the ballot").check()
    page.get_by_label("Final cost (if feasible)").fill("16500")
    page.get_by_label("Public explanation of the cost").fill("Concrete footings are needed on the embankment.")
    screenshot("review")
    page.get_by_role("button", name="Save review").click()
    expect(page.get_by_text("Review saved: Feasible")).to_be_visible()

    page.goto(proposal_url)
    expect(page.get_by_text("Reviewed: feasible.")).to_be_visible()
    expect(page.get_by_text("Concrete footings")).to_be_visible()
    screenshot("feasible")
    db.session.expire_all()
    proposal = db.session.scalars(db.select(Proposal)).one()
    assert (proposal.status, proposal.final_amount) == (ProposalStatus.FEASIBLE, 16_500_00)
