"""Database engine set-up: SQLite defaults that make the embedded database safe for concurrent use.

SQLite (the default, a file in the instance folder) gets, on every new connection:

* ``journal_mode=WAL`` so readers never block the writer and the writer never blocks readers;
* ``foreign_keys=ON`` so the schema's foreign keys are enforced as on PostgreSQL;
* ``busy_timeout`` so a connection waits for the write lock instead of failing at once;
* transactions that begin ``IMMEDIATE`` for anything but GET/HEAD/OPTIONS requests, so two
  concurrent writers queue on the lock at ``BEGIN`` (where the busy timeout applies) instead of one
  of them failing with "database is locked" when it tries to upgrade a read lock mid-transaction.
  Code that only reads outside a request can say so with ``g.sqlite_deferred = True`` in its app
  context (the test suite does, so that its own reads never hold the write lock).

Python's sqlite3 module would otherwise issue its own ``BEGIN`` lazily; we switch that off and emit
``BEGIN`` ourselves from SQLAlchemy's ``begin`` event (the recipe in SQLAlchemy's SQLite dialect
documentation).
"""
from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from flask import Flask, g, has_app_context, has_request_context, request
from psycopg import pq

READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def default_sqlite_url(app: Flask) -> str:
    return "sqlite:///" + os.path.join(app.instance_path, "pbvote.sqlite")


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def configure_engine_events(app: Flask, engine: sa.Engine) -> None:
    """Attach the SQLite connection and transaction settings to ``engine``; elsewhere the test of
    idle pooled connections (:func:`ping_idle_connections`)."""
    if engine.dialect.name != "sqlite":
        idle = float(app.config.get("DATABASE_PRE_PING_IDLE_SECONDS") or 0)
        if app.config.get("DATABASE_PRE_PING") and idle > 0:
            ping_idle_connections(engine, idle)
        return
    busy_ms = int(app.config.get("SQLITE_BUSY_TIMEOUT_MS", 15000))
    database = engine.url.database
    if database and database != ":memory:" and not database.startswith("file:"):
        directory = os.path.dirname(os.path.abspath(database))

        @sa.event.listens_for(engine, "do_connect")
        def _make_directory(dialect, conn_rec, cargs, cparams):  # pragma: no cover - trivial
            os.makedirs(directory, exist_ok=True)

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, connection_record):
        # Let SQLAlchemy, not the driver, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {busy_ms}")
        cursor.execute("PRAGMA foreign_keys = ON")
        if database and database != ":memory:":
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(connection):
        if has_request_context() and request.method in READ_ONLY_METHODS:
            connection.exec_driver_sql("BEGIN")
        elif not has_request_context() and has_app_context() and g.get("sqlite_deferred"):
            connection.exec_driver_sql("BEGIN")
        else:
            connection.exec_driver_sql("BEGIN IMMEDIATE")


def ping_idle_connections(engine: sa.Engine, idle_seconds: float) -> None:
    """Before the pool hands out a connection that sat unused for ``idle_seconds`` or more, test it
    with ``SELECT 1``; a dead one (server restart, fail-over, a proxy's idle timeout) is replaced,
    and the request never sees it (SQLAlchemy's "pessimistic disconnect handling" recipe, limited to
    idle connections).  A connection used a moment ago is handed out untested: on a busy worker that
    saves a database round trip per request.  The price: a connection the server dropped within the
    last ``idle_seconds`` fails the one request that gets it, and is then replaced.
    """

    @sa.event.listens_for(engine, "checkin")
    def _checked_in(dbapi_connection, record):
        record.info["pbvote_idle_since"] = time.monotonic()

    @sa.event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection, record, proxy):
        since = record.info.get("pbvote_idle_since")
        if since is None or time.monotonic() - since < idle_seconds:
            return  # new, or used a moment ago
        try:
            cursor = dbapi_connection.cursor()
            try:
                cursor.execute("SELECT 1")
            finally:
                cursor.close()
            # Hand the connection back exactly as the pool keeps it: outside any transaction.  A
            # DB-API driver (psycopg) opened one for the test; left open, it would break whatever
            # comes next, e.g. a switch to autocommit ("can't change 'autocommit' now").
            dbapi_connection.rollback()
        except Exception as error:
            # The pool discards this connection and retries with a new one.
            raise sa.exc.DisconnectionError(f"idle connection failed its test: {error}") from error


#: libpq's status of a statement that returned rows (``psycopg.pq.ExecStatus.TUPLES_OK``).
_TUPLES_OK = pq.ExecStatus.TUPLES_OK

#: SQL text of statements compiled once per dialect for :func:`driver_rows`.
_COMPILED: dict[tuple[str, object], str] = {}


@contextmanager
def autocommit_connection() -> Iterator[sa.Connection]:
    """A pooled connection of the app's engine outside any transaction: every statement on it is
    its own transaction, committed (durably, with ``synchronous_commit``) when it returns, and no
    ``BEGIN`` or ``COMMIT`` round trip is spent.  For a hot path that reads, then writes everything
    it writes in one statement (the first ballot of an access code: :func:`pbvote.ballots.views.cast`).
    """
    from pbvote.extensions import db

    with db.engine.connect() as connection:
        yield connection.execution_options(isolation_level="AUTOCOMMIT")


def driver_rows(statement, params: dict, connection: sa.Connection | None = None) -> list[tuple]:
    """Run ``statement`` (a SQLAlchemy statement, or SQL text in the driver's ``%(name)s`` style) on
    ``connection``, by default the session's (in its transaction), straight through the PostgreSQL
    driver; the rows as plain tuples of the driver's own values (no result processing: enums come
    back as their string values, JSON as parsed by psycopg).

    For the few statements of the ballot cast, where SQLAlchemy's result set-up (column metadata
    per execution) cost more than the database: prepared once per connection by psycopg, no per-call
    compilation.  The engine's ``before_cursor_execute`` listeners are called as for any statement;
    driver errors are raised as SQLAlchemy's (``IntegrityError``, ``OperationalError``, ...), and a
    dropped connection is invalidated, as SQLAlchemy does for its own statements.
    PostgreSQL only; everything else goes through the session as usual.
    """
    if connection is None:
        from pbvote.extensions import db

        connection = db.session.connection()
    if isinstance(statement, str):
        sql = statement
    else:
        key = (connection.dialect.name, statement)
        sql = _COMPILED.get(key)
        if sql is None:
            sql = _COMPILED[key] = str(statement.compile(dialect=connection.dialect))
    cursor = connection.connection.driver_connection.cursor()
    try:
        # As SQLAlchemy would: statement counters and tracing still see the statement (with no
        # listener, the call finds an empty list; asking first needs SQLAlchemy's private flags).
        connection.dispatch.before_cursor_execute(connection, cursor, sql, params, None, False)
        cursor.execute(sql, params, prepare=True)
        # Rows only from a statement that returns some (``cursor.description`` would build a column
        # object per column on every call).
        result = cursor.pgresult
        return cursor.fetchall() if result is not None and result.status == _TUPLES_OK else []
    except connection.dialect.loaded_dbapi.Error as error:
        # What SQLAlchemy does for its own statements: a connection the server dropped is
        # discarded at once (not handed to the next request), and the error reads as SQLAlchemy's.
        if connection.dialect.is_disconnect(error, connection.connection.dbapi_connection, cursor):
            connection.invalidate(error)
        if isinstance(error, connection.dialect.loaded_dbapi.IntegrityError):
            raise sa.exc.IntegrityError(sql, params, error) from error
        raise sa.exc.DBAPIError.instance(sql, params, error, connection.dialect.loaded_dbapi.Error) from error
    finally:
        cursor.close()
