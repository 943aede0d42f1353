"""A cycle's time zone: staff enter phase dates in it (daylight saving included), they are stored
as naive UTC, and every time of the cycle is shown in it, with the zone named and no seconds."""
from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from flask_babel import force_locale, refresh

from conftest import post_form
from pbvote.cycles import services
from pbvote.cycles.models import Cycle, PhaseKind
from pbvote.errors import InvalidInput
from pbvote.extensions import db
from pbvote.templating import datetime_format, number, percent
from pbvote.timeutil import NonexistentLocalTime, local_to_utc, utc_to_local, zone_name

SECONDS = re.compile(r"\b\d{1,2}:\d{2}:\d{2}\b")


def post(client, path, data):
    return post_form(client, path, data, token_page="/")


def text_of(response) -> str:
    # Babel puts a narrow no-break space before AM/PM (CLDR 42+): read it as a space.
    return response.get_data(as_text=True).replace("\u202f", " ")


def test_local_to_utc_follows_daylight_saving_in_warsaw():
    # Winter: UTC+1; summer: UTC+2 (clocks go forward on 29 March 2026 at 02:00).
    assert local_to_utc(datetime(2026, 3, 20, 10, 0), "Europe/Warsaw") == datetime(2026, 3, 20, 9, 0)
    assert local_to_utc(datetime(2026, 4, 5, 18, 0), "Europe/Warsaw") == datetime(2026, 4, 5, 16, 0)
    with pytest.raises(NonexistentLocalTime):
        local_to_utc(datetime(2026, 3, 29, 2, 30), "Europe/Warsaw")
    # 02:30 on 25 October happens twice: the first one (still summer time) is meant.
    assert local_to_utc(datetime(2026, 10, 25, 2, 30), "Europe/Warsaw") == datetime(2026, 10, 25, 0, 30)
    assert utc_to_local(datetime(2026, 10, 25, 1, 30), "Europe/Warsaw").strftime("%H:%M") == "02:30"


def test_zone_name_falls_back_to_the_site_zone(app):
    with app.app_context():
        app.config["BABEL_DEFAULT_TIMEZONE"] = "America/Chicago"
        assert zone_name(None) == "America/Chicago"
        assert zone_name(Cycle(timezone=None)) == "America/Chicago"
        assert zone_name(Cycle(timezone="Europe/Warsaw")) == "Europe/Warsaw"
        assert zone_name("Not/AZone") == "America/Chicago"


def test_update_cycle_validates_the_time_zone(app, make_cycle, make_user, request_context):
    cycle = make_cycle()
    staff = make_user("staff")
    with pytest.raises(InvalidInput) as caught:
        services.update_cycle(staff, cycle, timezone="Mars/Olympus")
    assert caught.value.field == "timezone"
    services.update_cycle(staff, cycle, timezone=" Europe/Warsaw ")
    assert cycle.timezone == "Europe/Warsaw"
    services.update_cycle(staff, cycle, timezone="")
    assert cycle.timezone is None


def test_staff_enter_phases_in_the_cycle_zone_across_a_dst_change(client, login, make_user, make_cycle):
    cycle = make_cycle(timezone="Europe/Warsaw")
    login(make_user("staff"))
    url = f"/staff/cycles/{cycle.id}"
    page = text_of(client.get(url))
    assert "Voting starts (Europe/Warsaw)" in page and 'list="timezone-names"' in page
    response = post(client, url + "/phases", {
        "phases-submission_start": "2026-03-01T09:00", "phases-submission_end": "2026-03-20T10:00",
        "phases-voting_start": "2026-03-20T10:00", "phases-voting_end": "2026-04-05T18:00"})
    assert response.status_code == 302, text_of(response)[:2000]
    db.session.expire_all()
    voting = db.session.get(Cycle, cycle.id).phase(PhaseKind.VOTING)
    assert (voting.starts_at, voting.ends_at) == (datetime(2026, 3, 20, 9, 0), datetime(2026, 4, 5, 16, 0))
    # The form shows them back as they were entered.
    page = text_of(client.get(url))
    assert 'value="2026-03-20T10:00"' in page and 'value="2026-04-05T18:00"' in page
    # A time the clocks skip is refused on its field.
    response = post(client, url + "/phases", {
        "phases-voting_start": "2026-03-29T02:30", "phases-voting_end": "2026-04-05T18:00"})
    assert response.status_code == 400 and "does not exist in Europe/Warsaw" in text_of(response)
    assert db.session.get(Cycle, cycle.id).phase(PhaseKind.VOTING).starts_at == datetime(2026, 3, 20, 9, 0)


def test_staff_choose_a_time_zone_in_the_cycle_form(client, login, make_user, make_cycle):
    cycle = make_cycle()
    login(make_user("staff"))
    settings = {"name": cycle.name, "slug": cycle.slug, "currency": "EUR", "support_threshold": "0",
                "district_eligibility": "home_district", "access_codes_enabled": "y", "is_published": "y"}
    response = post(client, f"/staff/cycles/{cycle.id}", settings | {"timezone": "Europe/Atlantis"})
    assert response.status_code == 400 and "Choose a time zone from the list" in text_of(response)
    response = post(client, f"/staff/cycles/{cycle.id}", settings | {"timezone": "Europe/Warsaw"})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Cycle, cycle.id).timezone == "Europe/Warsaw"
    assert "Europe/Warsaw" in text_of(client.get("/staff/cycles/new"))  # the suggestions list it


def test_cycle_pages_name_the_zone_and_show_no_seconds(client, make_cycle):
    cycle = make_cycle("voting", timezone="Asia/Tokyo")
    voting = cycle.phase(PhaseKind.VOTING)
    voting.ends_at = voting.ends_at.replace(hour=9, minute=30, second=45, microsecond=0)
    db.session.commit()
    for path in (f"/cycles/{cycle.slug}", "/", f"/cycles/{cycle.slug}/vote"):
        page = text_of(client.get(path))
        assert "Asia/Tokyo" in page, path
        assert "6:30 PM Asia/Tokyo" in page, path  # 09:30 UTC is 18:30 in Tokyo
        assert not SECONDS.search(page.split('<main', 1)[1]), path
    data = client.get(f"/api/v1/cycles/{cycle.slug}").get_json()
    assert data["timezone"] == "Asia/Tokyo" and data["phases"][0]["starts_at"].endswith("Z")


def test_a_cycle_without_a_zone_uses_the_site_zone(app, client, make_cycle):
    app.config["BABEL_DEFAULT_TIMEZONE"] = "America/New_York"
    cycle = make_cycle("voting")
    page = text_of(client.get(f"/cycles/{cycle.slug}"))
    assert "America/New_York" in page and " UTC" not in page.split('<main', 1)[1]


def test_receipt_time_is_in_the_cycle_zone(client, make_cycle, make_user, make_proposal, cast):
    from pbvote.ballots.views import RECEIPTS_KEY

    cycle = make_cycle("voting", timezone="Europe/Warsaw")
    proposal = make_proposal(cycle)
    budget = cycle.budgets[0]
    result = cast(make_user(verified=True), budget, [proposal.id])
    with client.session_transaction() as session:
        session[RECEIPTS_KEY] = {str(budget.id): result.tracking_code}
    response = client.get(f"/ballots/{budget.id}/receipt")
    page = text_of(response)
    assert response.status_code == 200, page[:2000]
    assert "Europe/Warsaw" in page and not SECONDS.search(page.split('<main', 1)[1])


def test_formats_follow_the_visitor_language(app):
    app.config["PBVOTE_LANGUAGES"] = ("en", "pl")
    moment = datetime(2026, 12, 4, 17, 0, 33)
    with app.test_request_context("/", headers={"Accept-Language": "pl"}):
        refresh()  # the test's app context outlives the request: forget the locale looked up before
        assert datetime_format(moment, "medium", "Europe/Warsaw") == "4 gru 2026, 18:00 Europe/Warsaw"
        assert number(1234567) == "1\u00a0234\u00a0567"
        assert percent(0.125) == "12,5%"
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        refresh()
        shown = datetime_format(moment, "medium", "Europe/Warsaw")
        assert shown.startswith("Dec 4, 2026, 6:00") and shown.endswith("PM Europe/Warsaw")
        assert datetime_format(moment, "short").startswith("12/4/26, 5:00")
        assert datetime_format(moment, "short").endswith("PM UTC")
        assert number(1234567) == "1,234,567" and percent(0.125) == "12.5%"
    with app.test_request_context("/"), force_locale("en"):
        assert datetime_format(None) == "" and datetime_format(moment, "date", "Pacific/Auckland") == "Dec 5, 2026"


def test_voting_opened_email_names_the_cycle_zone(app):
    from pbvote.notifications.mail import _when

    with app.test_request_context("/"):
        assert _when("2026-12-04T17:00:00", "Europe/Warsaw").endswith("6:00\u202fPM Europe/Warsaw") or \
            _when("2026-12-04T17:00:00", "Europe/Warsaw").endswith("6:00 PM Europe/Warsaw")
        assert _when("2026-12-04T17:00:00").endswith("5:00 PM UTC") or _when("2026-12-04T17:00:00").endswith("UTC")


def test_paper_session_times_are_entered_in_the_cycle_zone(client, login, make_user, make_cycle):
    cycle = make_cycle("voting", timezone="Europe/Warsaw")
    voting = cycle.phase(PhaseKind.VOTING)
    login(make_user("staff"))
    day = utc_to_local(voting.starts_at + timedelta(days=2), "Europe/Warsaw").replace(hour=10, minute=0, second=0, microsecond=0, tzinfo=None)
    response = post(client, f"/staff/cycles/{cycle.slug}/paper/sessions/new", {
        "place": "Library", "starts_at": day.strftime("%Y-%m-%dT%H:%M"),
        "ends_at": (day + timedelta(hours=6)).strftime("%Y-%m-%dT%H:%M"),
        "budgets": str(cycle.budgets[0].id)})
    assert response.status_code == 303, text_of(response)[:3000]
    from pbvote.ballots.paper.models import PaperSession

    session = db.session.scalars(db.select(PaperSession)).one()
    assert session.starts_at == local_to_utc(day, "Europe/Warsaw")


def test_a_polish_visitor_gets_polish_dates_on_the_cycle_page(app, client, make_cycle):
    app.config["PBVOTE_LANGUAGES"] = ("en", "pl")
    cycle = make_cycle("voting", timezone="Europe/Warsaw")
    for phase in cycle.phases:  # fixed dates, so the month names are known
        offset = phase.starts_at - cycle.phases[0].starts_at
        phase.starts_at, phase.ends_at = datetime(2026, 1, 5, 8, 0) + offset, datetime(2026, 1, 5, 8, 0) + offset + timedelta(days=10)
    db.session.commit()
    page = text_of(client.get(f"/cycles/{cycle.slug}", headers={"Accept-Language": "pl"}))
    assert "5 sty 2026, 09:00 Europe/Warsaw" in page  # 08:00 UTC is 09:00 in Warsaw in winter
    page = text_of(client.get(f"/cycles/{cycle.slug}", headers={"Accept-Language": "en"}))
    assert "Jan 5, 2026, 9:00 AM Europe/Warsaw" in page
