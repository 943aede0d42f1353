"""Ballot submissions are rate-limited per voter, never per address."""
from __future__ import annotations

import pytest
from conftest import count_rows, csrf_token

from pbvote.ballots.models import Ballot


@pytest.fixture
def app_config():
    return {"PBVOTE_CAST_LIMIT": "3 per day"}


def test_a_voter_who_keeps_resubmitting_is_stopped(client, voting_budget, make_user, login):
    budget, projects = voting_budget()
    login(make_user(verified=True))
    token = csrf_token(client, f"/ballots/{budget.id}")
    responses = [
        client.post(f"/ballots/{budget.id}/cast", data={"csrf_token": token, "projects": [projects[i % 2].id], "token": f"submission-{i:02d}-" + "z" * 20})
        for i in range(4)
    ]
    assert [r.status_code for r in responses] == [200, 200, 200, 429]
    # No limiter headers on ordinary responses (a storage round trip each); the refusal says when to retry.
    assert "X-RateLimit-Remaining" not in responses[0].headers
    assert 0 < int(responses[3].headers["Retry-After"]) <= 24 * 3600 + 1
    assert count_rows(Ballot) == 3  # the refused one stored nothing


def test_other_voters_from_the_same_address_are_not_affected(app, voting_budget, make_user, login, client):
    budget, projects = voting_budget()
    login(make_user(verified=True))
    token = csrf_token(client, f"/ballots/{budget.id}")
    for i in range(4):
        client.post(f"/ballots/{budget.id}/cast", data={"csrf_token": token, "projects": [projects[0].id], "token": f"first-voter-{i:02d}-" + "z" * 20})
    neighbour = app.test_client()
    from conftest import sign_in

    sign_in(neighbour, make_user(verified=True))
    token = csrf_token(neighbour, f"/ballots/{budget.id}")
    response = neighbour.post(f"/ballots/{budget.id}/cast", data={"csrf_token": token, "projects": [projects[1].id], "token": "neighbour-" + "z" * 24})
    assert response.status_code == 200


def test_endpoints_skipped_by_flask_limiter_have_no_limit_of_its_own(app):
    """The cast counts against its own limit in the view, so Flask-Limiter's before-request check
    is skipped for it (pbvote.extensions.OWN_LIMIT_ENDPOINTS): a ``@limiter.limit`` added there
    later, or a default limit, would be ignored, so there must be none."""
    from flask_limiter.util import get_qualified_name

    from pbvote.extensions import OWN_LIMIT_ENDPOINTS, limiter

    assert OWN_LIMIT_ENDPOINTS <= set(app.view_functions)
    assert not limiter.limit_manager.default_limits and not limiter.limit_manager.application_limits
    for endpoint in OWN_LIMIT_ENDPOINTS:
        assert limiter.limit_manager.decorated_limits(get_qualified_name(app.view_functions[endpoint])) == []
    # The check is still made for every other limited endpoint: a decorated one is found.
    assert limiter.limit_manager.decorated_limits(get_qualified_name(app.view_functions["auth.sign_in"]))
