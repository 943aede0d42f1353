"""A newcomer opens the site, finds the cycle, creates an account and signs in (real Chromium)."""
import pytest

from pbvote.demo import load_demo


def test_sign_up_and_browse_demo_cycle(app, live_server, page, screenshot):
    load_demo()
    page.goto(live_server + "/")
    assert page.get_by_role("heading", name="Greenhill Participatory Budget 2027").is_visible()
    page.get_by_role("link", name="See the cycle Greenhill Participatory Budget 2027").click()
    assert page.get_by_role("heading", name="Budgets").is_visible()
    screenshot("cycle")

    page.get_by_role("link", name="Create an account").first.click()
    page.get_by_label("Your name").fill("Nadia Newcomer")
    page.get_by_label("E-mail address").fill("nadia@example.org")
    page.get_by_label("Password", exact=True).fill("a long enough password")
    page.get_by_label("Repeat the password").fill("a long enough password")
    page.get_by_label("Home district").select_option(label="Riverside")
    page.get_by_role("button", name="Create account").click()
    assert page.get_by_text("Welcome, Nadia Newcomer!").is_visible()
    assert page.locator(".signed-in-as").inner_text() == "Signed in as Nadia Newcomer"

    page.get_by_role("button", name="Sign out").click()
    assert page.get_by_role("link", name="Sign in").is_visible()
    page.get_by_role("link", name="Sign in").click()
    page.get_by_label("E-mail address").fill("nadia@example.org")
    page.get_by_label("Password").fill("wrong password!!")
    page.get_by_role("button", name="Sign in").click()
    assert page.get_by_text("do not match an account").is_visible()
    page.get_by_label("Password").fill("a long enough password")
    page.get_by_role("button", name="Sign in").click()
    assert page.locator(".signed-in-as").inner_text() == "Signed in as Nadia Newcomer"


@pytest.mark.phone
def test_home_page_fits_a_phone(app, live_server, page, screenshot):
    load_demo()
    page.goto(live_server + "/cycles/greenhill-2027")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"page is {width}px wide on a 390px phone"
    screenshot("phone")
