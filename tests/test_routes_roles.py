"""The route × role matrix, generated from ``app.url_map``.

Every endpoint must declare its access with ``public``, ``login_required`` or ``role_required``
(pbvote.auth.session).  For each route and each kind of visitor we check what they get:
anonymous visitors are sent to sign in, signed-in accounts without the role get 403, and accounts
with the role get through (whatever the page then answers for an unknown object: 200, 400, 404...).
"""
from __future__ import annotations

import re

import pytest
from conftest import csrf_token

from pbvote.auth.models import ROLE_GRANTS, Role
from pbvote.auth.session import PUBLIC, SIGNED_IN

VISITORS = [None, Role.RESIDENT, Role.VOLUNTEER, Role.MODERATOR, Role.REVIEWER, Role.STAFF, Role.ADMIN]
DUMMY_ARGS = {"integer": "987654", "id": "987654", "float": "1.5", "string": "no-such-thing", "default": "no-such-thing", "path": "no/such/thing", "uuid": "00000000-0000-0000-0000-000000000000"}


def routes(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        values = {}
        for name in rule.arguments:
            converter = type(rule._converters[name]).__name__.replace("Converter", "").lower()
            values[name] = DUMMY_ARGS.get(converter, DUMMY_ARGS["default"])
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", lambda m: values[m.group(1)], rule.rule)
        method = "GET" if "GET" in rule.methods else sorted(rule.methods - {"HEAD", "OPTIONS"})[0]
        yield rule.endpoint, path, method


def expected_access(app, endpoint):
    view = app.view_functions[endpoint]
    return getattr(view, "pbvote_access", None)


def test_every_route_declares_its_access(app):
    undeclared = [endpoint for endpoint, _path, _method in routes(app) if expected_access(app, endpoint) is None]
    assert undeclared == [], f"routes without public/login_required/role_required: {undeclared}"


@pytest.mark.parametrize("visitor", VISITORS, ids=lambda v: v.value if v else "anonymous")
def test_route_role_matrix(app, make_user, login, visitor):
    client = app.test_client()
    if visitor is not None:
        user = make_user(role=visitor)
        response = client.post("/sign-in", data={"email": user.email, "password": "correct horse battery", "csrf_token": csrf_token(client)})
        assert response.status_code == 302
    failures = []
    checked = 0
    for endpoint, path, method in routes(app):
        access = expected_access(app, endpoint)
        if endpoint in ("auth.sign_out",):
            continue  # would end the session mid-matrix; covered in tests/auth
        if method == "GET":
            response = client.get(path)
        else:
            response = client.open(path, method=method, data={"csrf_token": csrf_token(client)})
        checked += 1
        status = response.status_code
        to_sign_in = status == 302 and "/sign-in" in response.headers.get("Location", "")
        if access == PUBLIC:
            ok = status != 403 and not to_sign_in and status < 500
        elif visitor is None:
            ok = to_sign_in
        elif access == SIGNED_IN:
            ok = status != 403 and not to_sign_in and status < 500
        else:
            allowed = any(role in ROLE_GRANTS[visitor] for role in access)
            ok = (status != 403 and not to_sign_in and status < 500) if allowed else status == 403
        if not ok:
            failures.append(f"{method} {path} ({endpoint}, access={access}) -> {status}")
    assert checked > 5
    assert failures == []


def test_a_volunteer_of_another_session_gets_403_on_every_paper_route(app, make_user, voting_budget, request_context):
    """Paper routes check the session, not only the role: a volunteer assigned elsewhere gets 403 on
    every route of a session that is not theirs (and on every staff paper route), while the session's
    own volunteer gets through."""
    from pbvote.ballots import services as ballot_services
    from pbvote.ballots.models import BallotChannel
    from pbvote.ballots.paper import services as paper
    from pbvote.ballots.paper.models import RegisterMethod
    from pbvote.cycles.models import PhaseKind
    from pbvote.extensions import db

    budget, _proposals = voting_budget()
    cycle = budget.cycle
    staff, ours, theirs = make_user(Role.STAFF), make_user(Role.VOLUNTEER), make_user(Role.VOLUNTEER)
    voting = cycle.phase(PhaseKind.VOTING)
    session = paper.create_session(staff, cycle, place="Library", starts_at=voting.starts_at, ends_at=voting.ends_at,
                                   budgets=[budget], volunteers=[ours])
    paper.create_session(staff, cycle, place="Market", starts_at=voting.starts_at, ends_at=voting.ends_at,
                         budgets=[budget], volunteers=[theirs])
    batch = paper.generate_sheets(staff, session, budget, 2)
    sheet = paper.batch_sheets(batch)[0]
    entry = paper.record_paper_entry(ours, session, sheet.serial, "1", ballot_services.new_submission_token()).entry
    registered = paper.register_voter(ours, session, method=RegisterMethod.ACCOUNT, channel=BallotChannel.PAPER,
                                      user=make_user(verified=True)).entry
    paper.register_voter(ours, session, method=RegisterMethod.ACCOUNT, channel=BallotChannel.PAPER,
                         user=registered.user)  # a conflict to review
    conflict = paper.cycle_conflicts(cycle)[0]
    db.session.commit()
    args = {"session_id": session.id, "budget_id": budget.id, "batch_id": batch.id, "sheet_id": sheet.id,
            "conflict_id": conflict.id, "slug": cycle.slug}
    own_ids = {"paper.undo_entry": {"entry_id": entry.id}, "paper.undo_registration": {"entry_id": registered.id}}
    paper_rules = [rule for rule in app.url_map.iter_rules() if rule.endpoint.split(".")[0] in ("paper", "paper_staff")]
    assert len(paper_rules) >= 20
    seen = {}
    for volunteer in (theirs, ours):
        client = app.test_client()
        response = client.post("/sign-in", data={"email": volunteer.email, "password": "correct horse battery",
                                                 "csrf_token": csrf_token(client)})
        assert response.status_code == 302
        for rule in paper_rules:
            values = {name: own_ids.get(rule.endpoint, {}).get(name, args.get(name)) for name in rule.arguments}
            path = rule.build(values)[1]
            method = "GET" if "GET" in rule.methods else "POST"
            response = client.open(path, method=method, data={"csrf_token": csrf_token(client)} if method == "POST" else None)
            seen[(volunteer.id, rule.endpoint)] = response.status_code
    staff_only = {r.endpoint for r in paper_rules if r.endpoint.startswith("paper_staff.")}
    session_free = {"paper.my_sessions"}  # lists the volunteer's own sessions
    for rule in paper_rules:
        if rule.endpoint in session_free:
            continue
        assert seen[(theirs.id, rule.endpoint)] == 403, (rule.endpoint, seen[(theirs.id, rule.endpoint)])
        if rule.endpoint in staff_only:
            assert seen[(ours.id, rule.endpoint)] == 403, rule.endpoint
        else:
            assert seen[(ours.id, rule.endpoint)] not in (401, 403) and seen[(ours.id, rule.endpoint)] < 500, (
                rule.endpoint, seen[(ours.id, rule.endpoint)])
