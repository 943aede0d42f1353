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
