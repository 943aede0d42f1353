"""Alembic migrations: one head; an empty database upgraded to head matches the models; downgrade.

Runs against a fresh SQLite file and, when PBVOTE_TEST_DATABASE_URL is set, inside a fresh
PostgreSQL schema (so the tables the other tests use are not touched).
"""
from __future__ import annotations

import uuid
import warnings

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from conftest import PG_URL, skip_without_postgres

from pbvote.cli import alembic_config
from pbvote.extensions import db
from pbvote.proposals.search import SQLITE_OBJECTS, include_name


def test_exactly_one_head():
    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    assert len(heads) == 1, f"several heads: {heads} (merge them or fix down_revision)"


def backends(tmp_path):
    yield "sqlite", f"sqlite:///{tmp_path / 'migrations.sqlite'}", None
    if PG_URL:
        yield "postgresql", PG_URL, f"mig_{uuid.uuid4().hex[:10]}"


def run_round_trip(app, url: str, schema: str | None):
    engine = sa.create_engine(url)
    from pbvote.db import configure_engine_events

    configure_engine_events(app, engine)
    try:
        with engine.connect() as conn:
            if schema:
                conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
                conn.exec_driver_sql(f'SET search_path TO "{schema}"')
                conn.commit()
            config = alembic_config(conn)
            command.upgrade(config, "head")
            conn.commit()
            context = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": False,
                                                             "include_name": include_name})
            with warnings.catch_warnings():
                # Alembic cannot compare expression indexes (the full-text search index) and says so;
                # their presence is checked by name below.
                warnings.filterwarnings("ignore", message=".*expression-based index.*")
                diff = compare_metadata(context, db.metadata)
            assert diff == [], f"models and migrations differ: {diff}"
            inspector = sa.inspect(conn)
            assert {t.name for t in db.metadata.sorted_tables} <= set(inspector.get_table_names())
            if conn.dialect.name == "postgresql":
                for table in db.metadata.sorted_tables:
                    wanted = {index.name for index in table.indexes if any(not isinstance(e, sa.Column) for e in index.expressions)}
                    assert wanted <= {index["name"] for index in inspector.get_indexes(table.name)}
            else:
                # The full-text search table and its triggers, which the comparison leaves out.
                made = set(conn.exec_driver_sql("SELECT name FROM sqlite_master").scalars())
                assert set(SQLITE_OBJECTS) <= made
            command.downgrade(config, "base")
            conn.commit()
            left = set(sa.inspect(conn).get_table_names()) - {"alembic_version"}
            assert left == set(), f"downgrade left tables behind: {left}"
            command.upgrade(config, "head")  # and up again: downgrades leave no debris
            conn.commit()
            if schema:
                conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
                conn.commit()
    finally:
        engine.dispose()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_upgrade_matches_models_and_downgrade_to_base(app, tmp_path, backend):
    matching = [b for b in backends(tmp_path) if b[0] == backend]
    if not matching:
        skip_without_postgres()
    _name, url, schema = matching[0]
    run_round_trip(app, url, schema)


def test_cli_upgrade_and_downgrade(tmp_path):
    from pbvote import create_app
    from pbvote.cli import cli

    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'cli.sqlite'}"})
    runner = app.test_cli_runner()
    result = runner.invoke(cli, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert "users" in sa.inspect(db.engine).get_table_names()
    result = runner.invoke(cli, ["db", "downgrade", "base"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert "users" not in sa.inspect(db.engine).get_table_names()
        db.engine.dispose()
