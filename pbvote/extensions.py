"""Flask extensions, created unbound here and bound to the app in :func:`pbvote.create_app`."""
from __future__ import annotations

import enum

import sqlalchemy as sa
from flask import request
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy.orm import DeclarativeBase

#: Constraint names are predictable so that Alembic can alter and drop them on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
login_manager = LoginManager()
csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address)
babel = Babel()

#: Endpoints that count against a limit of their own with :func:`pbvote.ratelimit.hit` and have no
#: ``@limiter.limit``: Flask-Limiter's before-request check (about 70 µs of resolving and filtering
#: limits to find none) is skipped for them.
OWN_LIMIT_ENDPOINTS = frozenset({"ballots.cast"})


@limiter.request_filter
def _counted_by_the_view() -> bool:
    return request.endpoint in OWN_LIMIT_ENDPOINTS


def enum_column(enum_class: type[enum.Enum], length: int = 24) -> sa.Enum:
    """A portable enum column type: stored as its string values, checked by a named constraint.

    Not a native PostgreSQL enum type, so adding a member later is a one-line migration on every
    backend rather than an ``ALTER TYPE`` that cannot run inside a transaction.
    """
    return sa.Enum(
        enum_class,
        native_enum=False,
        create_constraint=True,
        length=length,
        name=enum_class.__name__.lower(),
        values_callable=lambda members: [member.value for member in members],
        validate_strings=True,
    )
