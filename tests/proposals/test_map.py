"""Maps of proposals through the client: which places the list and a proposal page show, the text
list that works without JavaScript or tiles, the JSON the script reads (escaped), the form's
picker, the vendored Leaflet and the tile server's place in the Content-Security-Policy."""
from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from conftest import post_form
from pbvote import create_app
from pbvote.config import environment_overrides
from pbvote.extensions import db
from pbvote.proposals.locations import located_area
from pbvote.proposals.models import Proposal

TILES = {"PBVOTE_MAP_TILES": "https://tiles.example.org/{z}/{x}/{y}.png",
         "PBVOTE_MAP_ATTRIBUTION": "© Example <Maps> & contributors"}
NOT_CONFIGURED = "Map tiles are not configured; the places are listed below."
HOSTILE = "</script><img src=x onerror=alert(1)>"
LEAFLET = Path(__file__).resolve().parents[2] / "pbvote" / "static" / "vendor" / "leaflet"


class Elements(HTMLParser):
    """Every start tag of a page with its attributes (values unescaped, as a browser reads them)."""

    def __init__(self, html: str):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def find(self, tag: str, **attrs) -> list[dict]:
        return [a for t, a in self.tags if t == tag and all(a.get(k) == v for k, v in attrs.items())]


def html_of(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, path
    return response.get_data(as_text=True)


def map_data(html: str, map_id: str) -> list[dict]:
    """The places the page hands to proposals-map.js on the map ``map_id``."""
    (canvas,) = Elements(html).find("div", id=map_id)
    assert canvas["data-map"] == "places" and "hidden" in canvas and canvas["role"] == "region"
    assert canvas["aria-label"] in ("Map of the proposals on this page", "Map of the proposal's place")
    return json.loads(canvas["data-places"])


@pytest.fixture
def located(make_cycle, make_proposal):
    """A cycle whose proposals are: two with a place, one without, a draft and a withdrawn one with."""
    cycle = make_cycle("submission", budgets=[{"name": "City-wide", "total_amount": 100_000_00},
                                              {"name": "Riverside", "total_amount": 50_000_00}])
    park = make_proposal(cycle, status="submitted", title="Benches in Elm Park", address="Elm Park, north gate",
                         latitude=51.4551, longitude=-0.9712)
    river = make_proposal(cycle, status="feasible", title="Lights on the river path", budget=cycle.budgets[1],
                          latitude=51.4627, longitude=-0.9665)
    nowhere = make_proposal(cycle, status="submitted", title="Free Wi-Fi in every library")
    make_proposal(cycle, status="draft", title="Draft with a place", latitude=10.0, longitude=10.0)
    make_proposal(cycle, status="withdrawn", title="Withdrawn with a place", latitude=-10.0, longitude=-10.0)
    return cycle, park, river, nowhere


# -- the proposals list ----------------------------------------------------------------------------


@pytest.mark.parametrize("app_config", [TILES])
def test_list_maps_the_proposals_of_the_page_that_have_a_place(client, located):
    cycle, park, river, nowhere = located
    html = html_of(client, f"/cycles/{cycle.slug}/proposals")
    places = map_data(html, "proposals-map")
    assert sorted(p["id"] for p in places) == sorted([park.id, river.id])
    by_id = {p["id"]: p for p in places}
    assert by_id[park.id] == {"id": park.id, "title": "Benches in Elm Park", "url": f"/proposals/{park.id}",
                              "lat": 51.4551, "lon": -0.9712, "address": "Elm Park, north gate"}
    assert by_id[river.id]["address"] == "" and by_id[river.id]["url"] == f"/proposals/{river.id}"
    assert "Free Wi-Fi in every library" in html  # listed as a card, not placed on the map
    elements = Elements(html)
    assert elements.find("script", src="/static/vendor/leaflet/leaflet.js")
    assert elements.find("script", src="/static/proposals-map.js")
    assert elements.find("link", href="/static/vendor/leaflet/leaflet.css")
    (canvas,) = elements.find("div", id="proposals-map")
    assert canvas["data-tiles"] == TILES["PBVOTE_MAP_TILES"]
    assert canvas["data-attribution"] == TILES["PBVOTE_MAP_ATTRIBUTION"]
    # The text list is there too, open until the script folds it (no JavaScript, screen readers).
    assert "2 proposals on this page have a place" in html
    assert f'<a href="/proposals/{park.id}">Benches in Elm Park</a> — Elm Park, north gate' in html
    assert "(51.45510, -0.97120)" in html
    assert NOT_CONFIGURED not in html


@pytest.mark.parametrize("app_config", [TILES])
def test_list_map_follows_the_filters_and_the_page(client, located, make_proposal, monkeypatch):
    cycle, park, river, _ = located
    html = html_of(client, f"/cycles/{cycle.slug}/proposals?budget={cycle.budgets[1].id}")
    assert [p["id"] for p in map_data(html, "proposals-map")] == [river.id]
    html = html_of(client, f"/cycles/{cycle.slug}/proposals?q=Elm")
    assert [p["id"] for p in map_data(html, "proposals-map")] == [park.id]
    html = html_of(client, f"/cycles/{cycle.slug}/proposals?q=Wi-Fi")
    assert 'class="places-map"' not in html and "leaflet.js" not in html

    monkeypatch.setattr("pbvote.proposals.views.PER_PAGE", 2)
    first = {p["id"] for p in map_data(html_of(client, f"/cycles/{cycle.slug}/proposals?sort=newest"), "proposals-map")}
    second_html = html_of(client, f"/cycles/{cycle.slug}/proposals?sort=newest&page=2")
    second = {p["id"] for p in map_data(second_html, "proposals-map")} if 'id="proposals-map"' in second_html else set()
    assert first | second == {park.id, river.id} and not first & second


def test_list_without_tiles_lists_the_places_and_says_the_map_is_not_configured(client, located):
    cycle, park, river, _ = located
    html = html_of(client, f"/cycles/{cycle.slug}/proposals")
    assert NOT_CONFIGURED in html
    assert f'<a href="/proposals/{park.id}">Benches in Elm Park</a> — Elm Park, north gate' in html
    assert f'<a href="/proposals/{river.id}">Lights on the river path</a>' in html
    assert "(51.46270, -0.96650)" in html
    assert "Draft with a place" not in html and "Withdrawn with a place" not in html
    assert "data-places" not in html and "leaflet" not in html and "proposals-map.js" not in html


def test_list_without_any_place_shows_no_map(client, make_cycle, make_proposal):
    cycle = make_cycle()
    make_proposal(cycle, status="submitted", title="Nowhere in particular")
    html = html_of(client, f"/cycles/{cycle.slug}/proposals")
    assert "Nowhere in particular" in html
    assert 'class="places-map"' not in html and NOT_CONFIGURED not in html


# -- a proposal's page -----------------------------------------------------------------------------


@pytest.mark.parametrize("app_config", [TILES])
def test_proposal_page_maps_its_own_place(client, located):
    _, park, river, nowhere = located
    html = html_of(client, f"/proposals/{park.id}")
    assert map_data(html, "proposal-map") == [{"id": park.id, "title": "Benches in Elm Park",
                                               "url": f"/proposals/{park.id}", "lat": 51.4551, "lon": -0.9712,
                                               "address": "Elm Park, north gate"}]
    assert Elements(html).find("script", src="/static/proposals-map.js")
    html = html_of(client, f"/proposals/{nowhere.id}")
    assert 'class="places-map"' not in html and "leaflet.js" not in html


def test_proposal_page_without_tiles_names_its_place(client, located):
    _, park, _, _ = located
    html = html_of(client, f"/proposals/{park.id}")
    assert NOT_CONFIGURED in html and "Where it is" in html
    assert "Elm Park, north gate" in html and "(51.45510, -0.97120)" in html


@pytest.mark.parametrize("app_config", [TILES, {}])
def test_hostile_title_stays_text_in_the_map_data_and_the_list(client, make_cycle, make_proposal, app_config):
    cycle = make_cycle()
    proposal = make_proposal(cycle, status="submitted", title=HOSTILE, address="<b>Elm</b> & 'Oak'",
                             latitude=1.5, longitude=2.5)
    for path, map_id in ((f"/cycles/{cycle.slug}/proposals", "proposals-map"), (f"/proposals/{proposal.id}", "proposal-map")):
        html = html_of(client, path)
        main = html.split('<main id="content"', 1)[1]
        assert "<img src=x" not in main and "</script><img" not in main and "<b>Elm</b>" not in main
        assert not [a for t, a in Elements(main).tags if t == "img" or "onerror" in a]
        assert "&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;" in main  # the text list
        if app_config:
            (place,) = map_data(html, map_id)
            assert place["title"] == HOSTILE and place["address"] == "<b>Elm</b> & 'Oak'"
            raw = main.split("data-places=", 1)[1].split(">", 1)[0]
            assert "<" not in raw and "\\u003c/script\\u003e" in raw


# -- the proposal form's picker --------------------------------------------------------------------


@pytest.mark.parametrize("app_config", [TILES])
def test_form_offers_a_map_picker_on_the_area_of_the_cycles_places(client, login, make_user, located):
    cycle = located[0]
    login(make_user())
    html = html_of(client, f"/cycles/{cycle.slug}/proposals/new")
    elements = Elements(html)
    (picker,) = elements.find("div", **{"data-map": "picker"})
    assert picker["data-latitude"] == "latitude" and picker["data-longitude"] == "longitude" and "hidden" in picker
    # The box around the public places only (not the draft's or the withdrawn one's).
    assert json.loads(picker["data-area"]) == [51.4551, -0.9712, 51.4627, -0.9665]
    (canvas,) = elements.find("div", **{"aria-label": "Map to pick the place"})
    assert canvas["data-tiles"] == TILES["PBVOTE_MAP_TILES"]
    # The fields the map fills in stay labelled inputs that work without it.
    assert elements.find("label", **{"for": "latitude"}) and elements.find("label", **{"for": "longitude"})
    assert elements.find("script", src="/static/proposals-map.js")


@pytest.mark.parametrize("app_config", [TILES])
def test_form_picker_fields_save_the_point(client, login, make_user, make_cycle):
    cycle = make_cycle()
    login(make_user())
    html = html_of(client, f"/cycles/{cycle.slug}/proposals/new")
    assert "data-area" not in html  # no place in the cycle yet: the script opens on the world
    response = post_form(client, f"/cycles/{cycle.slug}/proposals/new", {
        "title": "Trees on Elm Street", "body": "Twenty trees along Elm Street for shade.", "estimated": "1000", "budget": str(cycle.budgets[0].id),
        "category": "", "latitude": "51.462700", "longitude": "-0.966500"}, token_page="/")
    assert response.status_code == 302, re.findall(r'class="error"[^>]*>([^<]*)', response.get_data(as_text=True))
    proposal = db.session.scalars(db.select(Proposal)).one()
    assert (proposal.latitude, proposal.longitude) == (51.4627, -0.9665)


def test_form_without_tiles_has_no_picker(client, login, make_user, make_cycle):
    cycle = make_cycle()
    login(make_user())
    html = html_of(client, f"/cycles/{cycle.slug}/proposals/new")
    assert 'data-map="picker"' not in html and "leaflet" not in html
    assert 'id="latitude"' in html and 'id="longitude"' in html


def test_located_area_is_none_without_places(app, make_cycle, make_proposal):
    cycle = make_cycle()
    make_proposal(cycle, status="draft", latitude=1.0, longitude=1.0)
    assert located_area(cycle) is None


# -- Leaflet, vendored -----------------------------------------------------------------------------


def test_leaflet_is_vendored_with_its_license_and_served_by_the_static_route(client):
    for name in ("leaflet.js", "leaflet.css", "LICENSE", "README.md", "images/marker-icon.png",
                 "images/marker-icon-2x.png", "images/marker-shadow.png", "images/layers.png", "images/layers-2x.png"):
        assert (LEAFLET / name).is_file(), name
    assert "Leaflet 1.9.4" in (LEAFLET / "leaflet.js").read_text(encoding="utf-8")[:200]
    assert "BSD 2-Clause" in (LEAFLET / "LICENSE").read_text(encoding="utf-8")
    for path, mimetypes in (("leaflet.js", ("text/javascript", "application/javascript")), ("leaflet.css", ("text/css",)),
                            ("images/marker-icon.png", ("image/png",))):
        response = client.get(f"/static/vendor/leaflet/{path}")
        assert response.status_code == 200 and response.mimetype in mimetypes, path
        assert response.data == (LEAFLET / path).read_bytes()
        response.close()
    response = client.get("/static/proposals-map.js")
    assert response.status_code == 200 and b"textContent" in response.data
    response.close()


def test_package_data_includes_the_vendored_files():
    setup_cfg = (Path(__file__).resolve().parents[2] / "setup.cfg").read_text(encoding="utf-8")
    assert "static/**/*" in setup_cfg.split("[options.package_data]", 1)[1].split("[", 1)[0]


# -- configuration and the Content-Security-Policy -------------------------------------------------


def _csp(client) -> str:
    return client.get("/").headers["Content-Security-Policy"]


def test_csp_allows_no_tile_server_by_default(client):
    assert "img-src 'self' data:;" in _csp(client)


@pytest.mark.parametrize("app_config", [TILES])
def test_csp_allows_images_from_the_tile_server_only(client):
    csp = _csp(client)
    assert "img-src 'self' data: https://tiles.example.org;" in csp
    assert "script-src 'self';" in csp and "style-src 'self';" in csp and csp.count("tiles.example.org") == 1


@pytest.mark.parametrize("template, source", [
    ("https://{s}.tile.example.org/{z}/{x}/{y}{r}.png", "https://*.tile.example.org"),
    ("http://127.0.0.1:8080/tiles/{z}/{x}/{-y}.png", "http://127.0.0.1:8080"),
    ("/tiles/{z}/{x}/{y}.png", None),
])
def test_tile_templates_and_their_csp_source(template, source):
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://", "PBVOTE_MAP_TILES": f"  {template} "})
    assert app.config["PBVOTE_MAP_TILES"] == template
    response = app.test_client().get("/static/pbvote.css")
    csp = response.headers["Content-Security-Policy"]
    response.close()
    assert f"img-src 'self' data:{' ' + source if source else ''};" in csp


@pytest.mark.parametrize("template", [
    "https://tiles.example.org/{x}/{y}.png",  # no zoom
    "ftp://tiles.example.org/{z}/{x}/{y}.png",
    "javascript:alert(1)//{z}/{x}/{y}",
    "//tiles.example.org/{z}/{x}/{y}.png",
    "https://user:secret@tiles.example.org/{z}/{x}/{y}.png",
    "https://{z}.example.org/{z}/{x}/{y}.png",
    "https://tiles.example.org/{z}/{x}/{y}.png; script-src *",
    "https://tiles.example.org;script-src/{z}/{x}/{y}.png",
    "https://tiles.example.org/{z}/{x}/{y}.png' onerror='x",
])
def test_a_bad_tile_template_stops_the_start_naming_the_variable(template):
    with pytest.raises(ValueError, match="PBVOTE_MAP_TILES"):
        create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://", "PBVOTE_MAP_TILES": template})


def test_map_settings_come_from_the_environment():
    overrides = environment_overrides({"PBVOTE_MAP_TILES": "https://t.example.org/{z}/{x}/{y}.png",
                                       "PBVOTE_MAP_ATTRIBUTION": "© Example"})
    assert overrides == {"PBVOTE_MAP_TILES": "https://t.example.org/{z}/{x}/{y}.png",
                         "PBVOTE_MAP_ATTRIBUTION": "© Example"}


def test_demo_places_the_proposals_that_have_one_place(app):
    from pbvote.demo import PLACES, load_demo

    assert load_demo()
    cycle_proposals = list(db.session.scalars(db.select(Proposal).where(Proposal.title.in_(PLACES))))
    assert {p.title for p in cycle_proposals} == set(PLACES)
    assert all(p.latitude is not None and p.longitude is not None and p.address for p in cycle_proposals)
    spread = db.session.scalars(db.select(Proposal).where(Proposal.title == "Plant 400 street trees")).one()
    assert spread.latitude is None  # 400 trees have no one place: listed, not on the map
