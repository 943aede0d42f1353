"""The audit log: who did what, when, to which object.  Append-only.

Services call :func:`record` in the same transaction as the change they log, so the entry exists if
and only if the change does.  Network addresses are stored only as a salted hash.
"""
from __future__ import annotations

import hashlib
import hmac
from datetime import datetime
from typing import Any, NamedTuple

import sqlalchemy as sa
from flask import current_app, has_request_context, request
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pbvote.extensions import db
from pbvote.timeutil import utcnow


class AuditEntry(db.Model):
    __tablename__ = "audit_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"), index=True)
    action: Mapped[str] = mapped_column(sa.String(64), index=True)
    subject_type: Mapped[str | None] = mapped_column(sa.String(40))
    subject_id: Mapped[int | None] = mapped_column(sa.Integer)
    data: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    address_hash: Mapped[str | None] = mapped_column(sa.String(64))

    actor: Mapped["User | None"] = relationship()  # noqa: F821

    __table_args__ = (sa.Index("ix_audit_entries_subject", "subject_type", "subject_id"),)


def hash_address(address: str | None) -> str | None:
    """A keyed hash of a network address: lets staff see repeats without storing the address."""
    if not address:
        return None
    key = ("audit-address:" + current_app.config["SECRET_KEY"]).encode()
    return hmac.new(key, address.encode(), hashlib.sha256).hexdigest()


_INSERT_ENTRY = sa.insert(AuditEntry.__table__)


def request_address_hash() -> str | None:
    """The keyed hash of the current request's address (None outside a request)."""
    return hash_address(request.remote_addr) if has_request_context() else None


class Ref(NamedTuple):
    """An audit entry's subject named by its type and id, for code that holds no model object (the
    cast's read-only snapshots)."""

    audit_type: str
    id: int


def insert_select_sql(values: dict[str, str], source: str) -> str:
    """``INSERT INTO audit_entries (...) SELECT ... FROM source`` for a raw SQL statement (the
    PostgreSQL one-statement cast), with the column list read from :class:`AuditEntry`: ``values``
    maps every column but ``id`` to its SQL expression, so a column added to the model and not to
    the statement fails at import, not in production."""
    columns = [column.name for column in AuditEntry.__table__.columns if column.name != "id"]
    if set(values) != set(columns):
        raise ValueError(f"audit entry columns are {columns}, the statement gives {sorted(values)}")
    return (
        f"INSERT INTO {AuditEntry.__tablename__} ({', '.join(columns)}) "
        f"SELECT {', '.join(values[c] for c in columns)} FROM {source}"
    )


def _entry_values(action: str, actor, subject, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "action": action,
        "actor_id": getattr(actor, "id", None),
        "subject_type": (getattr(subject, "audit_type", None) or type(subject).__name__) if subject is not None else None,
        "subject_id": getattr(subject, "id", None),
        "data": data,
        "address_hash": request_address_hash(),
    }


def record(action: str, *, actor=None, subject=None, **data: Any) -> AuditEntry:
    """Add an audit entry for ``action`` on ``subject`` by ``actor`` to the current transaction."""
    entry = AuditEntry(**_entry_values(action, actor, subject, data))
    db.session.add(entry)
    return entry


def write(action: str, *, actor=None, subject=None, **data: Any) -> None:
    """Like :func:`record`, but inserted at once with one Core statement, without the ORM's unit of
    work: for hot paths such as casting a ballot."""
    db.session.connection().execute(_INSERT_ENTRY, {"at": utcnow(), **_entry_values(action, actor, subject, data)})
