"""Groups of mutually exclusive projects in real Chromium: staff reach the budget's groups from its
settings, create a group of two proposals on the same site, and a resident reads it on each
proposal's page."""
import re

from conftest import PASSWORD
from pbvote.extensions import db
from playwright.sync_api import expect


def sign_in(page, base, email):
    page.goto(base + "/sign-in")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_staff_create_a_group_of_two_proposals(app, live_server, page, browser, screenshot, make_cycle,
                                               make_proposal, make_user):
    cycle = make_cycle("review", budgets=[{"name": "City", "total_amount": 100_000_00,
                                            "tally_rule": "greedy-exclusive", "tally_params": {}}])
    budget = cycle.budgets[0]
    bench = make_proposal(cycle, budget=budget, cost=20_000_00, title="Elm Park bench")
    garden = make_proposal(cycle, budget=budget, cost=30_000_00, title="Elm Park garden")
    make_proposal(cycle, budget=budget, cost=10_000_00, title="Street lights")
    make_user("staff", email="staff@example.org")
    db.session.rollback()

    sign_in(page, live_server, "staff@example.org")
    page.goto(f"{live_server}/staff/budgets/{budget.id}")
    page.get_by_role("link", name="Groups of mutually exclusive projects").click()
    expect(page.get_by_role("heading", name="Groups of mutually exclusive projects: City")).to_be_visible()
    page.get_by_label("Why only one can be built").fill("Same site: Elm Park north lawn")
    page.get_by_role("button", name="Create group").click()
    expect(page.get_by_text("Group “Same site: Elm Park north lawn” created")).to_be_visible()

    group = page.get_by_role("region", name="Same site: Elm Park north lawn")
    group.get_by_label("Add a project").select_option(label=f"#{bench.id} Elm Park bench")
    group.get_by_role("button", name="Add to this group").click()
    expect(page.get_by_text("has fewer than two projects on the ballot")).to_be_visible()  # warned while editing
    group = page.get_by_role("region", name="Same site: Elm Park north lawn")
    group.get_by_label("Add a project").select_option(label=f"#{garden.id} Elm Park garden")
    group.get_by_role("button", name="Add to this group").click()
    expect(page.get_by_text("“Elm Park garden” added to “Same site: Elm Park north lawn”.")).to_be_visible()
    expect(page.get_by_text("has fewer than two projects on the ballot")).to_have_count(0)
    group = page.get_by_role("region", name="Same site: Elm Park north lawn")
    expect(group.get_by_role("link", name=re.compile("Elm Park bench"))).to_be_visible()
    expect(group.get_by_role("link", name=re.compile("Elm Park garden"))).to_be_visible()
    screenshot("staff-group")

    resident = browser.new_context().new_page()
    resident.goto(f"{live_server}/proposals/{bench.id}")
    note = resident.locator(".exclusion-note")
    expect(note).to_contain_text("Only one of these can be built:")
    expect(note).to_contain_text("Same site: Elm Park north lawn")
    note.get_by_role("link", name="Elm Park garden").click()
    expect(resident.get_by_role("heading", name="Elm Park garden")).to_be_visible()
    expect(resident.locator(".exclusion-note")).to_contain_text("Elm Park bench")

    # the staff page and the proposal page with its note: no serious accessibility violations
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()
    problems = []
    for where in (page, resident):
        for violation in axe.run(where).response["violations"]:
            if violation["impact"] in ("serious", "critical"):
                problems.append(f"{where.url}: {violation['id']} ({violation['impact']}): "
                                f"{[n['target'] for n in violation['nodes']][:3]}")
    assert not problems, "\n".join(problems)
