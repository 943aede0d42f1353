"""A newcomer opens the site, finds the cycle, creates an account and signs in (real Chromium)."""
import pytest

from pbvote.demo import load_demo
from playwright.sync_api import expect


def test_sign_up_and_browse_demo_cycle(app, live_server, page, screenshot):
    load_demo()
    page.goto(live_server + "/")
    expect(page.get_by_role("heading", name="Greenhill Participatory Budget 2027")).to_be_visible()
    page.get_by_role("link", name="See the cycle Greenhill Participatory Budget 2027").click()
    expect(page.get_by_role("heading", name="Budgets")).to_be_visible()
    screenshot("cycle")

    page.get_by_role("link", name="Create an account").first.click()
    page.get_by_label("Your name").fill("Nadia Newcomer")
    page.get_by_label("E-mail address").fill("nadia@example.org")
    page.get_by_label("Password", exact=True).fill("a long enough password")
    page.get_by_label("Repeat the password").fill("a long enough password")
    page.get_by_label("Home district").select_option(label="Riverside")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_text("Welcome, Nadia Newcomer!")).to_be_visible()
    expect(page.locator(".signed-in-as")).to_have_text("Signed in as Nadia Newcomer")

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("link", name="Sign in")).to_be_visible()
    page.get_by_role("link", name="Sign in").click()
    page.get_by_label("E-mail address").fill("nadia@example.org")
    page.get_by_label("Password").fill("wrong password!!")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("do not match an account")).to_be_visible()
    page.get_by_label("Password").fill("a long enough password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".signed-in-as")).to_have_text("Signed in as Nadia Newcomer")


@pytest.mark.phone
def test_home_page_fits_a_phone(app, live_server, page, screenshot):
    load_demo()
    page.goto(live_server + "/cycles/greenhill-2027")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"page is {width}px wide on a 390px phone"
    screenshot("phone")
