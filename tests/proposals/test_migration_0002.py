"""Migration 0002: upgrades an empty database to head, matches the models, and downgrades to base."""
from __future__ import annotations

import warnings

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from conftest import PG_URL
from pbvote.cli import alembic_config
from pbvote.extensions import db

SCHEMA = "pbvote_migration_test"


@pytest.fixture
def empty_engine(tmp_path):
    if PG_URL:
        admin = sa.create_engine(PG_URL)
        with admin.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
            conn.exec_driver_sql(f"CREATE SCHEMA {SCHEMA}")
        engine = sa.create_engine(PG_URL, connect_args={"options": f"-csearch_path={SCHEMA}"})
        yield engine
        engine.dispose()
        with admin.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
        admin.dispose()
    else:
        engine = sa.create_engine(f"sqlite:///{tmp_path / 'migrate.sqlite'}")
        yield engine
        engine.dispose()


def test_single_head_is_0002():
    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    assert len(heads) == 1


def test_upgrade_to_head_matches_models_and_downgrades(app, empty_engine):
    with empty_engine.begin() as conn:
        command.upgrade(alembic_config(conn), "head")
    with empty_engine.connect() as conn:
        names = set(sa.inspect(conn).get_table_names())
        assert {"coauthors", "supports", "pledges", "proposal_images", "comments", "comment_flags"} <= names
        checks = {c["name"] for c in sa.inspect(conn).get_check_constraints("proposals")}
        assert "ck_proposals_unfeasible_has_reason" in checks
        if conn.dialect.name == "postgresql":
            assert "ix_proposals_search" in {i["name"] for i in sa.inspect(conn).get_indexes("proposals")}
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        with warnings.catch_warnings():
            # Alembic cannot compare expression indexes (the PostgreSQL search index) and says so.
            warnings.filterwarnings("ignore", message=".*expression-based index.*")
            diff = compare_metadata(context, db.metadata)
        assert diff == []
    with empty_engine.begin() as conn:
        command.downgrade(alembic_config(conn), "base")
    with empty_engine.connect() as conn:
        assert set(sa.inspect(conn).get_table_names()) <= {"alembic_version"}
