"""Implementation tracking in real Chromium: staff reach a funded project from the cycle's staff page,
mark a milestone done and a pledge fulfilled; an anonymous visitor follows the links from the home
page to the cycle's implementation page and sees both."""
from datetime import date, timedelta

from conftest import PASSWORD
from pbvote.ballots import services as ballot_services
from pbvote.ballots.services import Choice, Voter
from pbvote.cycles.models import PhaseKind
from pbvote.extensions import db
from pbvote.proposals.models import Pledge, PledgeFrequency, PledgeKind
from pbvote.results import publication as publishing
from pbvote.results.implementation import services as implementation
from pbvote.timeutil import utcnow
from playwright.sync_api import expect


def sign_in(page, base, email):
    page.goto(base + "/sign-in")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_staff_track_a_project_and_a_visitor_follows_it(app, live_server, page, browser, screenshot,
                                                         make_cycle, make_proposal, make_user):
    cycle = make_cycle("voting", budgets=[{"name": "City", "total_amount": 100_000_00, "min_choices": 1}])
    budget = cycle.budgets[0]
    park = make_proposal(cycle, cost=60_000_00, budget=budget, title="A park by the river")
    helper = make_user(name="Hana Helper")
    staff = make_user("staff", email="staff@example.org")
    park.pledges.append(Pledge(user=helper, kind=PledgeKind.TIME, hours=3, frequency=PledgeFrequency.WEEKLY,
                               description="Water the new trees"))
    db.session.commit()
    with app.test_request_context("/"):
        for _ in range(2):
            ballot_services.cast_ballot(Voter(user=make_user(verified=True)), budget, [Choice(park.id)],
                                        ballot_services.new_submission_token())
            db.session.commit()
        now = utcnow()
        cycle.phase(PhaseKind.VOTING).ends_at = now - timedelta(minutes=10)
        results = cycle.phase(PhaseKind.RESULTS)
        results.starts_at, results.ends_at = now - timedelta(minutes=9), now - timedelta(minutes=5)
        cycle.phase(PhaseKind.IMPLEMENTATION).starts_at = now - timedelta(minutes=1)
        db.session.commit()
        publishing.publish_result(budget)
        implementation.add_milestone(staff, park, title="Clear the site", due_on=date.today() + timedelta(days=30),
                                     note="Contractor hired")
        db.session.commit()
    db.session.rollback()

    sign_in(page, live_server, "staff@example.org")
    page.goto(f"{live_server}/staff/cycles/{cycle.id}")
    page.get_by_role("link", name="Implementation", exact=True).click()
    page.get_by_role("link", name="A park by the river").click()
    expect(page.get_by_role("heading", name="Implementation: A park by the river")).to_be_visible()
    page.get_by_role("button", name="Mark done Clear the site").click()
    expect(page.get_by_text("Milestone marked done.")).to_be_visible()
    page.locator(f"#pledge-{park.pledges[0].id}").get_by_label("Note (optional)").fill("Every Saturday since May")
    page.get_by_role("button", name="Mark fulfilled Water the new trees").click()
    expect(page.get_by_text("Pledge marked fulfilled.")).to_be_visible()
    expect(page.get_by_text("1 of 1 pledge fulfilled")).to_be_visible()
    screenshot("staff")

    visitor = browser.new_context().new_page()
    visitor.goto(live_server + "/")
    visitor.get_by_role("link", name=f"Implementation: promised and delivered {cycle.name}").click()
    expect(visitor.get_by_role("heading", name="Implementation: promised and delivered")).to_be_visible()
    project = visitor.locator(f"#project-{park.id}")
    expect(project.get_by_role("listitem").filter(has_text="Clear the site")).to_contain_text("Done")
    expect(project).to_contain_text("1 of 1 pledge fulfilled")
    expect(project.get_by_role("listitem").filter(has_text="Water the new trees")).to_contain_text("fulfilled: Every Saturday since May")
    expect(visitor.get_by_text("1 of 1 milestone done.")).to_be_visible()
    visitor.get_by_role("link", name="A park by the river").click()
    expect(visitor.get_by_role("heading", name="Implementation")).to_be_visible()
    expect(visitor.get_by_text("0% complete")).to_be_visible()
    visitor.context.close()
