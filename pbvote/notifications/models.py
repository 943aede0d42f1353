"""Notifications, the choices people make about them, the e-mail outbox and announcement markers."""
from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pbvote.extensions import db, enum_column
from pbvote.notifications.kinds import NotificationKind
from pbvote.timeutil import utcnow


class Notification(db.Model):
    """One thing one person is told about in the app.  The text is rendered when shown, from the
    kind and ``params`` (:func:`pbvote.notifications.kinds.render_message`), in the reader's language."""

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[NotificationKind] = mapped_column(enum_column(NotificationKind, 32))
    #: Who caused it (the inviter, the replier, the reviewer); none for dated events.
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"), index=True)
    #: What it is about, named as in the audit log (``Proposal`` 12, ``Cycle`` 3).
    subject_type: Mapped[str | None] = mapped_column(sa.String(40))
    subject_id: Mapped[int | None] = mapped_column(sa.Integer)
    #: Where it leads: a path of this site ("/proposals/12#comment-40"), without the script root.
    link: Mapped[str] = mapped_column(sa.String(500))
    #: The message's parameters (titles, names, amounts), stored so the text is rendered translated.
    params: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(sa.DateTime)

    user: Mapped["User"] = relationship(foreign_keys=[user_id])  # noqa: F821

    __table_args__ = (
        # A person's list, newest first.
        sa.Index("ix_notifications_user_created", "user_id", "created_at"),
        # "My unread" (the header's count, the top of the list): only unread rows are indexed.
        sa.Index(
            "ix_notifications_user_unread", "user_id", "created_at",
            postgresql_where=sa.text("read_at IS NULL"), sqlite_where=sa.text("read_at IS NULL"),
        ),
        sa.Index("ix_notifications_subject", "subject_type", "subject_id"),
    )

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


class NotificationPreference(db.Model):
    """One person's choice for one kind: in the app, by e-mail, both or neither.  No row: the
    kind's defaults (:data:`pbvote.notifications.kinds.KINDS`)."""

    __tablename__ = "notification_preferences"

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[NotificationKind] = mapped_column(enum_column(NotificationKind, 32), primary_key=True)
    in_app: Mapped[bool] = mapped_column(sa.Boolean)
    email: Mapped[bool] = mapped_column(sa.Boolean)
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow, onupdate=utcnow)


class OutboxStatus(enum.Enum):
    PENDING = "pending"  # to send (again) from next_attempt_at on
    SENT = "sent"  # the mail server accepted it (or, without a server, it was written to the log)
    FAILED = "failed"  # given up: too many attempts, or the server refused the recipient


class OutboxEmail(db.Model):
    """An e-mail written in the transaction of the change it tells about and sent after the commit
    by the mail worker (:mod:`pbvote.notifications.worker`).

    A worker claims a due row by moving ``next_attempt_at`` past a lease and counting the attempt,
    then sends, then records the outcome: sent, due again after a backoff, or failed for good.
    """

    __tablename__ = "outbox_emails"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The person it is for (the address is copied: it is sent where they were when it was written).
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"), index=True)
    kind: Mapped[NotificationKind | None] = mapped_column(enum_column(NotificationKind, 32))
    recipient: Mapped[str] = mapped_column(sa.String(254))
    subject: Mapped[str] = mapped_column(sa.String(300))
    body_text: Mapped[str] = mapped_column(sa.Text)
    status: Mapped[OutboxStatus] = mapped_column(enum_column(OutboxStatus, 16), default=OutboxStatus.PENDING)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow)
    attempts: Mapped[int] = mapped_column(sa.Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow)
    last_attempt_at: Mapped[datetime | None] = mapped_column(sa.DateTime)
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    sent_at: Mapped[datetime | None] = mapped_column(sa.DateTime)

    __table_args__ = (
        sa.CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        sa.CheckConstraint("status != 'sent' OR sent_at IS NOT NULL", name="sent_has_time"),
        sa.CheckConstraint("status != 'failed' OR last_error IS NOT NULL", name="failed_has_error"),
        # What the worker looks for: pending rows by due time (sent and failed ones are not indexed).
        sa.Index(
            "ix_outbox_emails_due", "next_attempt_at",
            postgresql_where=sa.text("status = 'pending'"), sqlite_where=sa.text("status = 'pending'"),
        ),
        # The staff page: failed and retrying e-mails, newest first.
        sa.Index("ix_outbox_emails_status_created", "status", "created_at"),
    )


class Announcement(db.Model):
    """A marker that something was announced to everyone concerned (voting opened in cycle 3):
    unique, so it is announced once, however many workers look at the same moment."""

    __tablename__ = "notification_announcements"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[NotificationKind] = mapped_column(enum_column(NotificationKind, 32))
    subject_type: Mapped[str] = mapped_column(sa.String(40))
    subject_id: Mapped[int] = mapped_column(sa.Integer)
    announced_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow)
    recipient_count: Mapped[int] = mapped_column(sa.Integer, default=0)

    __table_args__ = (sa.UniqueConstraint("kind", "subject_type", "subject_id"),)
