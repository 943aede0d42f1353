"""Error pages as HTML and JSON; no tracebacks leak."""
from __future__ import annotations

import pytest
from flask import Blueprint

from pbvote.auth.session import public
from pbvote.errors import PhaseClosed


@pytest.fixture
def broken_app(app):
    bp = Blueprint("broken", __name__)

    @bp.route("/boom")
    @public
    def boom():
        raise RuntimeError("secret internals")

    @bp.route("/api/closed")
    @public
    def closed():
        raise PhaseClosed("Voting closed at 18:00.")

    app.register_blueprint(bp)
    return app


@pytest.mark.parametrize("status, path", [(404, "/no/such/page"), (405, "/sign-out")])
def test_html_error_pages(client, status, path):
    response = client.get(path)
    assert response.status_code == status
    assert response.mimetype == "text/html"
    assert "<h1>" in response.get_data(as_text=True)


def test_405_lists_allowed_methods(client):
    assert client.get("/sign-out").headers["Allow"]


def test_json_errors_for_api_paths(client):
    response = client.get("/api/nothing-here")
    assert response.status_code == 404
    assert response.get_json() == {"error": {"status": 404, "code": "page_not_found", "message": "We could not find that page. It may have moved or been removed."}}


def test_json_errors_when_the_client_prefers_json(client):
    response = client.get("/no/such/page", headers={"Accept": "application/json"})
    assert response.status_code == 404 and response.is_json


def test_domain_errors_render_with_their_status_and_message(broken_app):
    response = broken_app.test_client().get("/api/closed")
    assert response.status_code == 409
    assert response.get_json()["error"] == {"status": 409, "code": "phase_closed", "message": "Voting closed at 18:00."}


def test_unexpected_errors_give_a_500_page_without_internals(broken_app):
    client = broken_app.test_client()
    response = client.get("/boom")
    assert response.status_code == 500
    body = response.get_data(as_text=True)
    assert "Something went wrong" in body
    assert "secret internals" not in body and "Traceback" not in body
    assert client.get("/boom", headers={"Accept": "application/json"}).get_json()["error"]["status"] == 500


def test_403_page(client, make_user, login):
    login(make_user())
    response = client.get("/admin/users")
    assert response.status_code == 403 and "Not allowed" in response.get_data(as_text=True)
    json = client.get("/admin/users", headers={"Accept": "application/json"})
    assert json.status_code == 403 and json.get_json()["error"]["status"] == 403


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


def test_healthz_reports_an_unreachable_database(tmp_path):
    from pbvote import create_app

    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=1"})
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["database"] == "unreachable"
