"""Switching to Polish in real Chromium: by keyboard in the header, then signing in and voting on a
knapsack ballot in Polish (its running total formatted the Polish way), then back to English."""
import re

from pbvote.auth.models import User
from pbvote.ballots.models import Ballot
from pbvote.demo import DEMO_PASSWORD, load_demo
from pbvote.extensions import db
from playwright.sync_api import expect


def _scalar(statement):
    # Outside a request the test's transaction would hold SQLite's lock: end it at once.
    try:
        return db.session.scalar(statement)
    finally:
        db.session.rollback()


def test_switch_to_polish_in_the_header_and_vote_in_polish(app, live_server, page, screenshot):
    load_demo()
    before = _scalar(db.select(db.func.count()).select_from(Ballot))
    page.goto(live_server + "/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    switcher = page.get_by_role("navigation", name="Language")
    expect(switcher.get_by_text("English")).to_have_attribute("aria-current", "true")
    polski = switcher.get_by_role("link", name="Polski")
    polski.focus()
    page.keyboard.press("Enter")  # the switcher works from the keyboard
    expect(page.locator("html")).to_have_attribute("lang", "pl")
    expect(page.get_by_role("navigation", name="Język").get_by_text("Polski")).to_have_attribute("aria-current", "true")
    expect(page.get_by_role("heading", level=1)).to_have_text("Zdecydujmy razem, na co miasto wyda część swojego budżetu")
    screenshot("home")

    page.get_by_role("navigation", name="Główna").get_by_role("link", name="Zaloguj się").click()
    page.get_by_label("Adres e-mail").fill("resident@demo.pbvote.org")
    page.get_by_label("Hasło").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Zaloguj się").click()
    expect(page.locator(".signed-in-as")).to_have_text("Zalogowano jako Robin Resident")

    page.goto(live_server + "/cycles/greenhill-2027/vote")
    page.get_by_role("link", name="Głosuj: City-wide").click()
    expect(page.locator("html")).to_have_attribute("lang", "pl")
    summary = page.locator("#ballot-summary-text")
    expect(summary).to_contain_text(re.compile(r"Pozostało: 500\s000\s€ z 500\s000\s€"))
    page.get_by_label(re.compile("Protected cycle lane")).check()
    page.get_by_label(re.compile("Plant 400 street trees")).check()
    expect(summary).to_contain_text(re.compile(r"Wybrano: 330\s000\s€"))
    page.get_by_label(re.compile("Better lighting on riverside")).check()
    gyms = page.get_by_label(re.compile("Outdoor gyms"))
    expect(gyms).to_have_accessible_description(re.compile(r"Nie mieści się: zostało 75\s000\s€"))
    screenshot("ballot")

    page.get_by_role("button", name="Przejrzyj moje wybory").click()
    expect(page.get_by_text("Twój głos nie został jeszcze oddany.")).to_be_visible()
    screenshot("review")
    page.get_by_role("button", name="Oddaj głos").click()
    expect(page.get_by_text("Dziękujemy — Twój głos został oddany.")).to_be_visible()
    expect(page.locator("#tracking-short")).to_have_text(re.compile(r"^[A-Z2-9]{4}-[A-Z2-9]{4}$"))
    screenshot("receipt")
    assert _scalar(db.select(db.func.count()).select_from(Ballot)) == before + 1

    # Signed in, the switcher is a form: back to English, saved on the account, on the same page.
    page.goto(live_server + "/account/votes")
    page.get_by_role("navigation", name="Język").get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page).to_have_url(live_server + "/account/votes")
    expect(page.get_by_role("heading", level=1)).to_have_text("My votes")
    assert _scalar(db.select(User.locale).where(User.email == "resident@demo.pbvote.org")) == "en"
