"""One unit of work per request (pbvote.unit_of_work): success commits, an error response rolls
back, side effects wait for the commit, and a commit the database refuses is never reported as done."""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import Blueprint, abort

from conftest import count_rows
from pbvote.audit import AuditEntry, record
from pbvote.auth.session import public
from pbvote.extensions import csrf, db
from pbvote.unit_of_work import after_commit, keep_changes

bp = Blueprint("uow_probe", __name__)
ran: list[str] = []


@bp.route("/_uow/<outcome>", methods=["POST"])
@public
def probe(outcome: str):
    record(f"probe.{outcome}")
    after_commit(lambda: ran.append(outcome))
    if outcome == "ok":
        return "stored", 200
    if outcome == "form-error":
        return "form error", 400
    if outcome == "kept":
        keep_changes()
        return "refused but kept", 401
    if outcome == "clash":
        db.session.add(AuditEntry(id=db.session.scalar(sa.select(sa.func.min(AuditEntry.id))), action="clash"))
        return "looks fine", 200
    abort(404)


@pytest.fixture
def app_with_probe(app):
    app.register_blueprint(bp)
    csrf.exempt(bp)
    ran.clear()
    return app


@pytest.mark.parametrize("outcome, status, stored, side_effect", [
    ("ok", 200, True, True),
    ("form-error", 400, False, False),
    ("kept", 401, True, True),
])
def test_a_request_commits_on_success_and_rolls_back_on_an_error_response(app_with_probe, outcome, status, stored,
                                                                        side_effect):
    response = app_with_probe.test_client().post(f"/_uow/{outcome}")
    assert response.status_code == status
    assert count_rows(AuditEntry, AuditEntry.action == f"probe.{outcome}") == (1 if stored else 0)
    assert ran == ([outcome] if side_effect else [])


def test_a_commit_the_database_refuses_is_answered_with_an_error_not_the_views_response(app_with_probe):
    app_with_probe.test_client().post("/_uow/ok")  # one row, so that the probe can clash with its id
    response = app_with_probe.test_client().post("/_uow/clash")
    assert response.status_code == 409 and "looks fine" not in response.get_data(as_text=True)
    assert count_rows(AuditEntry, AuditEntry.action == "probe.clash") == 0
    assert ran == ["ok"]


def test_no_view_commits_or_rolls_back_itself():
    """The request does it (pbvote.unit_of_work); views stay load - check - call - return."""
    import pathlib

    root = pathlib.Path(__file__).resolve().parents[1] / "pbvote"
    offenders = [
        f"{path.relative_to(root)}:{number}"
        for path in root.rglob("views.py")
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if "session.commit()" in line or "session.rollback()" in line
    ]
    assert offenders == []


def test_outside_a_dispatched_request_an_after_commit_action_runs_at_once(app):
    """Nothing finishes a bare ``test_request_context`` (or a CLI command): the caller commits, so
    the action is not kept waiting for a commit that the unit of work would never make."""
    done = []
    with app.test_request_context("/"):
        after_commit(lambda: done.append("at once"))
        assert done == ["at once"]
    after_commit(lambda: done.append("no request"))
    assert done == ["at once", "no request"]
