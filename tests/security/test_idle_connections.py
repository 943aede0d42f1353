"""Finding 1: an access-code vote on PostgreSQL failed with HTTP 500 after the server sat idle.

The idle-connection test (``PBVOTE_DATABASE_PRE_PING_IDLE_SECONDS``) ran ``SELECT 1`` on the raw
connection and left it inside a transaction; the access code's first ballot, cast outside any
transaction, then could not switch the connection to autocommit.  A tested connection is now handed
back exactly as it was found.  Each test below lets the pool sit idle past the threshold between
entering the code and submitting the ballot, with the test on every checkout, on idle connections
only, and off.
"""
from __future__ import annotations

import time

import pytest

from conftest import count_rows, csrf_token, post_form
from pbvote.ballots import services
from pbvote.ballots.models import Ballot
from pbvote.extensions import db

IDLE_SECONDS = 0.2

MODES = {
    "every-checkout": {"DATABASE_PRE_PING": True, "DATABASE_PRE_PING_IDLE_SECONDS": 0},
    "idle-only": {"DATABASE_PRE_PING": True, "DATABASE_PRE_PING_IDLE_SECONDS": IDLE_SECONDS},
    "off": {"DATABASE_PRE_PING": False, "DATABASE_PRE_PING_IDLE_SECONDS": IDLE_SECONDS},
}


@pytest.fixture(params=sorted(MODES))
def app_config(request):
    return dict(MODES[request.param])


def _fill_pool(size: int) -> None:
    """Leave ``size`` connections in the pool, as a server that served a few requests at once does
    (a request may check out more than one: the session's, then the cast's own)."""
    db.session.remove()
    connections = [db.engine.connect() for _ in range(size)]
    for connection in connections:
        connection.exec_driver_sql("SELECT 1")
        connection.close()


def _code_ballot_after_idle(client, make_cycle, make_proposal, make_user):
    cycle = make_cycle("voting")
    budget = cycle.budgets[0]
    project = make_proposal(cycle, budget=budget)
    with client.application.test_request_context("/"):
        _batch, codes = services.generate_access_codes(make_user("staff"), cycle, count=1, budget=budget)
        db.session.commit()
    assert post_form(client, "/vote/code", {"code": codes[0]}, token_page="/vote/code").status_code == 302
    token = csrf_token(client, f"/ballots/{budget.id}")
    path, project_id = f"/ballots/{budget.id}/cast", project.id
    _fill_pool(3)
    time.sleep(IDLE_SECONDS * 2.5)  # every pooled connection is now idle past the threshold
    return client.post(path, data={"csrf_token": token, "projects": [project_id], "token": "i" * 32})


def test_an_access_code_ballot_cast_after_the_pool_sat_idle_is_stored(client, make_cycle, make_proposal, make_user):
    response = _code_ballot_after_idle(client, make_cycle, make_proposal, make_user)
    assert response.status_code == 200, response.get_data(as_text=True)[:800]
    assert "your ballot is cast" in response.get_data(as_text=True)
    assert count_rows(Ballot) == 1


def test_an_idle_connection_that_was_tested_is_handed_out_outside_any_transaction(app):
    """The pool's contract: whatever the test of an idle connection did, the connection it hands out
    is idle (no transaction open), so it can be switched to autocommit."""
    db.session.remove()
    with db.engine.connect() as connection:
        connection.exec_driver_sql("SELECT 1")
        connection.commit()
    time.sleep(IDLE_SECONDS * 2.5)
    with db.engine.connect() as connection:
        raw = connection.connection.driver_connection
        if db.engine.dialect.name == "postgresql":
            from psycopg.pq import TransactionStatus

            assert raw.info.transaction_status == TransactionStatus.IDLE
        else:
            assert not raw.in_transaction
        auto = connection.execution_options(isolation_level="AUTOCOMMIT")
        assert auto.exec_driver_sql("SELECT 1").scalar() == 1
