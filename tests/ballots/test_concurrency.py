"""Exactly once under a burst: 16+ simultaneous casts for one voter, released by a barrier.

Runs against a real SQLite file (the default fixture) and against PostgreSQL when
PBVOTE_TEST_DATABASE_URL is set — never an in-memory database.
"""
from __future__ import annotations

import re
import threading

import pytest
from conftest import count_rows, csrf_token

from pbvote.ballots.models import Ballot, Participation
from pbvote.extensions import db

THREADS = 16
TRACKING_RE = re.compile(r'id="tracking-code">([^<]+)<')


def burst(app, cookie_jar_client, path: str, payloads: list[dict]) -> list[tuple[int, str | None]]:
    """POST each payload at the same instant from its own client sharing one session."""
    cookie = cookie_jar_client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    barrier = threading.Barrier(len(payloads))
    results: list[tuple[int, str | None]] = [(0, None)] * len(payloads)
    db.session.commit()
    db.session.close()  # the test's own connection must not hold a lock while the burst runs

    def worker(index: int) -> None:
        client = app.test_client()
        client.set_cookie(cookie.key, cookie.value, domain=cookie.domain or "localhost")
        barrier.wait()
        response = client.post(path, data=payloads[index])
        match = TRACKING_RE.search(response.get_data(as_text=True))
        results[index] = (response.status_code, match.group(1) if match else None)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(payloads))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


@pytest.fixture
def signed_in(client, make_user, login):
    login(make_user(verified=True))
    return client


def _payload(client, budget, project, token):
    return {"csrf_token": csrf_token(client, f"/ballots/{budget.id}"), "projects": [project.id], "token": token}


@pytest.mark.parametrize("voter_kind", ["account", "access_code"])
def test_a_burst_of_the_same_submission_stores_one_ballot_and_one_receipt(app, client, voting_budget, make_user, login,
                                                                          code_for, voter_kind):
    budget, ps = voting_budget(cycle={"allow_vote_change": False})
    if voter_kind == "account":
        login(make_user(verified=True))
    else:
        code, _clear = code_for(budget.cycle, budget=budget)
        with client.session_transaction() as session:
            session["voter_code_id"] = code.id
    payload = _payload(client, budget, ps[0], "same-token-" + "x" * 20)
    results = burst(app, client, f"/ballots/{budget.id}/cast", [payload] * THREADS)
    assert sorted({status for status, _code in results}) == [200], results
    assert len({code for _status, code in results}) == 1
    assert count_rows(Ballot) == 1 and count_rows(Participation) == 1


def test_a_burst_of_different_submissions_without_vote_change_keeps_one(app, voting_budget, signed_in):
    budget, ps = voting_budget(cycle={"allow_vote_change": False})
    payloads = [_payload(signed_in, budget, ps[i % len(ps)], f"token-{i:02d}-" + "y" * 20) for i in range(THREADS)]
    results = burst(app, signed_in, f"/ballots/{budget.id}/cast", payloads)
    statuses = [status for status, _code in results]
    assert statuses.count(200) == 1 and statuses.count(409) == THREADS - 1, results
    assert count_rows(Ballot) == 1 and count_rows(Participation) == 1


def test_a_burst_of_changed_votes_leaves_exactly_one_live_ballot(app, voting_budget, signed_in):
    budget, ps = voting_budget(cycle={"allow_vote_change": True})
    payloads = [_payload(signed_in, budget, ps[i % len(ps)], f"token-{i:02d}-" + "z" * 20) for i in range(THREADS)]
    results = burst(app, signed_in, f"/ballots/{budget.id}/cast", payloads)
    assert all(status in (200, 409) for status, _code in results), results
    assert all(status == 200 for status, _code in results)  # serialised by the lock, each one supersedes
    assert count_rows(Ballot, Ballot.superseded_at.is_(None), Ballot.voided_at.is_(None)) == 1
    assert count_rows(Ballot) == THREADS and count_rows(Participation) == 1
