"""Maps of proposals in real Chromium: markers for the proposals of the page that have a place, a
popup linking to the proposal, the keyboard, a phone's width, the page without JavaScript, and the
proposal form's picker.  The tiles come from a route of the test's own server: nothing leaves the
machine (every request elsewhere is refused and recorded, and the test fails on any)."""
from __future__ import annotations

import re
import struct
import zlib

import pytest
import sqlalchemy as sa
from flask import Response
from playwright.sync_api import expect

from conftest import PASSWORD
from pbvote.demo import load_demo
from pbvote.extensions import db
from pbvote.proposals.models import Proposal

TILE_ROUTE = "/_test/tiles/<int:z>/<int:x>/<int:y>.png"
ATTRIBUTION = "Test tiles <served locally> & co"


def _png(size: int = 256) -> bytes:
    """A light grey tile with a darker border, so that a screenshot shows the tiles."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    edge, fill = b"\xb0\xb8\xc0", b"\xe4\xe8\xec"
    rows = []
    for y in range(size):
        row = b"".join(edge if y in (0, size - 1) or x in (0, size - 1) else fill for x in range(size))
        rows.append(b"\x00" + row)
    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"".join(rows))) + chunk(b"IEND", b"")


TILE = _png()


@pytest.fixture
def app_config():
    return {"PBVOTE_MAP_TILES": "/_test/tiles/{z}/{x}/{y}.png", "PBVOTE_MAP_ATTRIBUTION": ATTRIBUTION}


@pytest.fixture
def tiles(app):
    """Serve tiles from the app under test (added before its first request); yields those served."""
    served: list[tuple[int, int, int]] = []

    def tile(z: int, x: int, y: int):
        served.append((z, x, y))
        return Response(TILE, mimetype="image/png")

    app.add_url_rule(TILE_ROUTE, "test_tile", tile)
    return served


@pytest.fixture
def offline(page):
    """Refuse (and record) every request that is not to the test's own server."""
    outside: list[str] = []

    def refuse(route):
        outside.append(route.request.url)
        route.abort()

    page.route(re.compile(r"^(?!http://127\.0\.0\.1:\d+/)"), refuse)
    yield outside
    assert outside == [], f"the page asked for outside resources: {outside}"


def located_ids_on_page(page) -> list[int]:
    """The proposals listed on the page (their cards) that have coordinates in the database."""
    ids = [int(href.rsplit("/", 1)[1]) for href in
           page.locator(".proposal-list .card h3 a").evaluate_all("links => links.map(a => a.getAttribute('href'))")]
    assert ids, "no proposal listed"
    db.session.rollback()
    return list(db.session.scalars(sa.select(Proposal.id).where(Proposal.id.in_(ids), Proposal.latitude.is_not(None))))


def southernmost(located: list[int]) -> str:
    """The title of the southernmost of ``located``: Leaflet draws southern markers over northern
    ones, so its marker is never covered by another (a real click reaches it at any width)."""
    db.session.rollback()
    title = db.session.scalars(sa.select(Proposal.title).where(Proposal.id.in_(located))
                               .order_by(Proposal.latitude).limit(1)).one()
    db.session.rollback()
    return title


def demo_list(app, live_server, page) -> tuple[str, list[int]]:
    load_demo()
    db.session.rollback()  # outside requests SQLite begins IMMEDIATE: hold no lock while the server serves
    page.goto(live_server + "/cycles/greenhill-2027/proposals")
    located = located_ids_on_page(page)
    db.session.rollback()
    return live_server, located


def check_list_map(page, located: list[int], tiles_served: list) -> None:
    canvas = page.get_by_role("region", name="Map of the proposals on this page")
    expect(canvas).to_be_visible()
    expect(page.locator("#proposals-map .leaflet-marker-icon")).to_have_count(len(located))
    expect(page.locator("#proposals-map .leaflet-tile-loaded").first).to_be_visible()
    assert tiles_served, "no tile was asked for"
    # The place list is folded away once the map shows, and still there.
    expect(page.locator("details.map-places")).not_to_have_attribute("open", "")
    expect(page.locator("details.map-places li")).to_have_count(len(located))
    expect(page.locator(".leaflet-control-attribution")).to_contain_text(ATTRIBUTION)
    box = canvas.bounding_box()
    assert box["height"] <= 400 and box["width"] <= page.viewport_size["width"]


def test_list_map_shows_a_marker_per_located_proposal_and_popups_link_to_them(app, tiles, live_server, page, offline,
                                                                                screenshot):
    base, located = demo_list(app, live_server, page)
    assert 0 < len(located) < page.locator(".proposal-list .card").count()  # some have no place: no marker
    check_list_map(page, located, tiles)
    screenshot("list-map")

    title = southernmost(located)
    marker = page.get_by_role("button", name=title)
    marker.click()
    link = page.locator(".leaflet-popup-content a")
    expect(link).to_have_text(title)
    clicked_id = int(link.get_attribute("href").rsplit("/", 1)[1])
    assert clicked_id in located
    screenshot("popup")

    # The keyboard: the popup's link has the focus; Escape closes it and goes back to the marker.
    expect(link).to_be_focused()
    page.keyboard.press("Escape")
    expect(page.locator(".leaflet-popup")).to_have_count(0)
    expect(marker).to_be_focused()
    # Markers are focusable buttons: Enter opens the popup.
    garden = page.get_by_role("button", name="Riverside community garden")
    garden.focus()
    expect(garden).to_be_focused()
    page.keyboard.press("Enter")
    link = page.locator(".leaflet-popup-content a")
    expect(link).to_have_text("Riverside community garden")
    expect(link).to_be_focused()
    expect(link).to_have_attribute("href", re.compile(r"^/proposals/\d+$"))
    page.keyboard.press("Enter")  # follows the link
    expect(page.get_by_role("heading", name="Riverside community garden", level=1)).to_be_visible()

    page.goto(base + f"/proposals/{clicked_id}")
    expect(page.get_by_role("heading", name=title, level=1)).to_be_visible()
    expect(page.get_by_role("region", name="Map of the proposal's place")).to_be_visible()
    expect(page.locator("#proposal-map .leaflet-marker-icon")).to_have_count(1)
    expect(page.get_by_role("button", name=title)).to_be_visible()
    screenshot("proposal-map")


@pytest.mark.phone
def test_list_map_fits_a_phone(app, tiles, live_server, page, offline, screenshot):
    base, located = demo_list(app, live_server, page)
    check_list_map(page, located, tiles)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"page is {width}px wide on a 390px phone"
    title = southernmost(located)
    page.get_by_role("button", name=title).click()
    expect(page.locator(".leaflet-popup-content a")).to_have_text(title)
    screenshot("phone-list-map")
    page.locator(".leaflet-popup-content a").click()
    expect(page.get_by_role("heading", name=title, level=1)).to_be_visible()
    expect(page.locator("#proposal-map .leaflet-marker-icon")).to_have_count(1)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot("phone-proposal-map")


@pytest.mark.nojs
def test_without_javascript_the_places_are_listed(app, tiles, live_server, page, offline, screenshot):
    base, located = demo_list(app, live_server, page)
    expect(page.locator("#proposals-map")).to_be_hidden()
    expect(page.locator("details.map-places")).to_have_attribute("open", "")
    expect(page.locator("details.map-places li")).to_have_count(len(located))
    expect(page.locator("details.map-places li").first).to_contain_text(re.compile(r"\(\d+\.\d{5}, -?\d+\.\d{5}\)"))
    assert tiles == []
    screenshot("nojs-list")


def test_form_map_picker_fills_in_the_coordinates(app, tiles, live_server, page, offline, screenshot,
                                                  make_cycle, make_user, make_proposal):
    cycle = make_cycle("submission")
    make_proposal(cycle, status="submitted", title="Benches in Elm Park", latitude=51.4551, longitude=-0.9712)
    make_proposal(cycle, status="submitted", title="Lights on the river path", latitude=51.4627, longitude=-0.9665)
    user = make_user(email="kim@example.org")
    slug = cycle.slug
    db.session.rollback()

    page.goto(live_server + "/sign-in")
    page.get_by_label("E-mail address").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto(live_server + f"/cycles/{slug}/proposals/new")
    page.get_by_label("Title").fill("A bench by the river")
    page.get_by_label("Description").fill("One bench where the river path meets the park, facing the water.")
    page.get_by_label("Estimated cost").fill("1500")
    picker = page.get_by_role("region", name="Map to pick the place")
    expect(picker).to_be_visible()
    expect(page.locator(".map-canvas-picker .leaflet-tile-loaded").first).to_be_visible()
    box = picker.bounding_box()
    picker.click(position={"x": box["width"] / 2, "y": box["height"] / 2})
    latitude, longitude = page.get_by_label("Latitude (optional)"), page.get_by_label("Longitude (optional)")
    expect(latitude).to_have_value(re.compile(r"^51\.4\d{5}$"))
    expect(longitude).to_have_value(re.compile(r"^-0\.9\d{5}$"))
    lat, lon = float(latitude.input_value()), float(longitude.input_value())
    assert 51.45 <= lat <= 51.47 and -0.98 <= lon <= -0.96  # opened on the cycle's places
    expect(page.locator(".map-canvas-picker .leaflet-marker-icon")).to_have_count(1)
    screenshot("picker")
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_text("Draft saved")).to_be_visible()
    db.session.rollback()
    proposal = db.session.scalars(sa.select(Proposal).where(Proposal.title == "A bench by the river")).one()
    assert (proposal.latitude, proposal.longitude) == (lat, lon)
    expect(page.locator("#proposal-map .leaflet-marker-icon")).to_have_count(1)


@pytest.mark.parametrize("phone", [False, True])
def test_map_pages_have_no_serious_accessibility_violations(app, tiles, live_server, page, offline, phone):
    from axe_playwright_python.sync_playwright import Axe

    if phone:
        page.set_viewport_size({"width": 390, "height": 844})
    base, located = demo_list(app, live_server, page)
    axe = Axe()
    problems = []
    for path in ("/cycles/greenhill-2027/proposals", f"/proposals/{located[0]}"):
        page.goto(base + path)
        expect(page.locator(".places-map .leaflet-marker-icon").first).to_be_visible()
        page.locator(".places-map .leaflet-marker-icon").first.focus()
        page.keyboard.press("Enter")  # with a popup open, too
        expect(page.locator(".leaflet-popup-content a")).to_be_visible()
        for violation in axe.run(page).response["violations"]:
            if violation["impact"] in ("serious", "critical"):
                problems.append(f"{path}: {violation['id']} ({violation['impact']}): "
                                f"{[n['target'] for n in violation['nodes']][:3]}")
    assert not problems, "\n".join(problems)
