"""Alembic environment: builds (or reuses) the pbvote app and migrates its database.

SQLite needs batch mode to alter tables; types are compared so that autogenerate notices changed
column types.  A connection may be handed in through ``config.attributes["connection"]`` (tests).
"""
from __future__ import annotations

from alembic import context
from flask import current_app, has_app_context

from pbvote.extensions import db
from pbvote.proposals.search import include_name


def get_app():
    if has_app_context():
        return current_app._get_current_object()
    from pbvote import create_app

    return create_app()


def configure(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=db.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        compare_server_default=False,
        include_name=include_name,  # the SQLite full-text search table is not in the models
    )


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    app = get_app()
    with app.app_context():
        with db.engine.connect() as connection:
            configure(connection)
            with context.begin_transaction():
                context.run_migrations()


def run_migrations_offline() -> None:
    app = get_app()
    context.configure(
        url=app.config["SQLALCHEMY_DATABASE_URI"],
        target_metadata=db.metadata,
        literal_binds=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
