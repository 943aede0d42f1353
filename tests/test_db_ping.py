"""Pooled connections: tested before use only after sitting idle, and a dead one is replaced."""
from __future__ import annotations

import time

import pytest
import sqlalchemy as sa

from pbvote import create_app
from pbvote.extensions import db


def test_database_pre_ping_is_on_unless_switched_off(monkeypatch):
    # By default pbvote tests connections idle for a second or more itself, not every checkout.
    app = create_app({"TESTING": True})
    assert app.config["DATABASE_PRE_PING_IDLE_SECONDS"] == 1.0
    assert app.config["SQLALCHEMY_ENGINE_OPTIONS"]["pool_pre_ping"] is False
    monkeypatch.setenv("PBVOTE_DATABASE_PRE_PING_IDLE_SECONDS", "0")
    assert create_app({"TESTING": True}).config["SQLALCHEMY_ENGINE_OPTIONS"]["pool_pre_ping"] is True
    monkeypatch.setenv("PBVOTE_DATABASE_PRE_PING", "0")
    assert create_app({"TESTING": True}).config["SQLALCHEMY_ENGINE_OPTIONS"]["pool_pre_ping"] is False


@pytest.fixture
def app_config():
    return {"DATABASE_PRE_PING_IDLE_SECONDS": 0.2}


def _backend_pid() -> int:
    with db.engine.connect() as connection:
        return connection.scalar(sa.text("SELECT pg_backend_pid()"))


def test_an_idle_connection_the_server_dropped_is_replaced(app):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite connections are files: nothing to test")
    db.session.remove()
    first = _backend_pid()
    assert _backend_pid() == first  # the same pooled connection, handed out again at once
    # The server drops the connection while it sits idle in the pool ...
    killer = sa.create_engine(db.engine.url, poolclass=sa.pool.NullPool)
    with killer.connect() as other:
        assert other.scalar(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": first}) is True
    killer.dispose()
    time.sleep(0.3)
    # ... and the next use after the idle threshold gets a working new one instead of an error.
    replacement = _backend_pid()
    assert replacement != first
    assert _backend_pid() == replacement  # and kept


def test_a_connection_dropped_under_a_driver_statement_is_discarded_and_the_next_one_works(app):
    """pbvote.db.driver_rows bypasses SQLAlchemy's execution, not its disconnect handling: the error
    reads as SQLAlchemy's and the dead connection never goes back to the pool."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("driver_rows is PostgreSQL's")
    from pbvote.db import driver_rows

    db.session.remove()
    victim = db.session.scalar(sa.text("SELECT pg_backend_pid()"))
    killer = sa.create_engine(db.engine.url, poolclass=sa.pool.NullPool)
    with killer.connect() as other:
        assert other.scalar(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": victim}) is True
    killer.dispose()
    with pytest.raises(sa.exc.OperationalError):
        driver_rows("SELECT 1", {})
    db.session.rollback()
    db.session.remove()
    # Used again at once (no idle test): a fresh connection, not the dead one.
    assert db.session.scalar(sa.text("SELECT pg_backend_pid()")) != victim
    assert driver_rows("SELECT %(n)s::int", {"n": 7}) == [(7,)]
