"""Notification use cases: tell people, let them choose how, read, and look after the outbox.

Every service writes in the caller's transaction and flushes; none commits.  So a notification
and its e-mail exist if and only if the change they tell about is committed, and the worker sends
the e-mail after that commit (:mod:`pbvote.notifications.worker`).

Rules, in one place:

* nobody is told about their own action (``actor``), nor is an account that was closed;
* each person's choice per kind and channel decides (:class:`~pbvote.notifications.models.NotificationPreference`);
  without one, the kind's defaults (:data:`pbvote.notifications.kinds.KINDS`);
* a dated event is announced once (:func:`announce`: a unique marker per kind and subject).
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _

from pbvote import audit
from pbvote.auth.models import Role, User
from pbvote.errors import Conflict, NotAllowed
from pbvote.extensions import db
from pbvote.notifications.kinds import KINDS, NotificationKind
from pbvote.notifications.mail import render_email
from pbvote.notifications.models import (
    Announcement,
    Notification,
    NotificationPreference,
    OutboxEmail,
    OutboxStatus,
)
from pbvote.notifications.participants import participant_ids
from pbvote.timeutil import utcnow

#: People loaded and written at a time when announcing to a whole cycle.
ANNOUNCE_CHUNK = 500
#: Longest link stored (the column's size); longer ones are a programming error.
MAX_LINK_LENGTH = 500


@dataclass(frozen=True)
class Channels:
    """Where a person wants one kind of notification."""

    in_app: bool
    email: bool


# -- preferences --------------------------------------------------------------------------------


def default_channels(kind: NotificationKind) -> Channels:
    spec = KINDS[kind]
    return Channels(in_app=spec.in_app, email=spec.email)


def preferences_of(user: User) -> dict[NotificationKind, Channels]:
    """Every kind with the channels ``user`` chose, or the kind's defaults."""
    chosen = {
        row.kind: Channels(row.in_app, row.email)
        for row in db.session.scalars(sa.select(NotificationPreference).where(NotificationPreference.user_id == user.id))
    }
    return {kind: chosen.get(kind, default_channels(kind)) for kind in KINDS}


def set_preferences(user: User, choices: Mapping[NotificationKind, Channels]) -> list[NotificationKind]:
    """Store ``user``'s choices (kinds not given keep theirs); returns the kinds that changed."""
    current = preferences_of(user)
    rows = {
        row.kind: row
        for row in db.session.scalars(sa.select(NotificationPreference).where(NotificationPreference.user_id == user.id))
    }
    changed = []
    for kind, channels in choices.items():
        kind = NotificationKind(kind)
        if current[kind] == channels:
            continue
        row = rows.get(kind)
        if row is None:
            row = NotificationPreference(user_id=user.id, kind=kind)
            db.session.add(row)
        row.in_app, row.email = bool(channels.in_app), bool(channels.email)
        changed.append(kind)
    db.session.flush()
    if changed:
        audit.record(
            "notifications.preferences_changed", actor=user, subject=user,
            **{kind.value: {"in_app": choices[kind].in_app, "email": choices[kind].email} for kind in changed},
        )
    return changed


def _channels_for(user_ids: Sequence[int], kind: NotificationKind) -> dict[int, Channels]:
    """The channels of ``kind`` for each of ``user_ids`` (one query, in chunks for big lists)."""
    default = default_channels(kind)
    out = dict.fromkeys(user_ids, default)
    for start in range(0, len(user_ids), 1000):
        chunk = user_ids[start:start + 1000]
        rows = db.session.execute(
            sa.select(NotificationPreference.user_id, NotificationPreference.in_app, NotificationPreference.email)
            .where(NotificationPreference.kind == kind, NotificationPreference.user_id.in_(chunk))
        )
        for user_id, in_app, email in rows:
            out[user_id] = Channels(in_app, email)
    return out


# -- telling people -----------------------------------------------------------------------------


def _stored(value: Any) -> Any:
    """A message parameter as JSON keeps it (dates as ISO text); anything else is a mistake."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    raise TypeError(f"a notification parameter must be text, a number or a date, not {type(value).__name__}")


def _subject_ref(subject) -> tuple[str | None, int | None]:
    if subject is None:
        return None, None
    return getattr(subject, "audit_type", None) or type(subject).__name__, getattr(subject, "id", None)


def deliver(users: Iterable[User | None], kind: NotificationKind, subject_link: str, *, actor: User | None = None,
            subject=None, params: Mapping[str, Any] | None = None) -> int:
    """Write ``kind`` for each of ``users`` as each chose (in the app, into the outbox, both or
    neither), in the current transaction.  Returns how many people were told by some channel.

    Leaves out ``actor`` (nobody is told of their own action), closed accounts and repeats.
    """
    kind = NotificationKind(kind)
    if (not subject_link.startswith("/") or subject_link.startswith("//") or "\\" in subject_link
            or len(subject_link) > MAX_LINK_LENGTH):
        raise ValueError(f"a notification links to a path of this site, not {subject_link!r}")
    stored = {name: _stored(value) for name, value in (params or {}).items()}
    if actor is not None:
        stored.setdefault("actor", actor.display_name)
    actor_id = getattr(actor, "id", None)
    recipients: dict[int, User] = {}
    for user in users:
        if user is not None and user.is_active_account and user.id != actor_id:
            recipients.setdefault(user.id, user)
    if not recipients:
        return 0
    channels = _channels_for(list(recipients), kind)
    spec = KINDS[kind]
    subject_type, subject_id = _subject_ref(subject)
    now = utcnow()
    in_app_rows, email_rows, told = [], [], 0
    for user_id, user in recipients.items():
        chosen = channels[user_id]
        if chosen.in_app:
            in_app_rows.append({
                "user_id": user_id, "kind": kind, "actor_id": actor_id, "subject_type": subject_type,
                "subject_id": subject_id, "link": subject_link, "params": stored, "created_at": now,
            })
        by_email = chosen.email and user.email_confirmed_at is not None  # only to addresses known to be theirs
        if by_email:
            email_subject, body = render_email(user, spec, subject_link, stored)
            email_rows.append({
                "user_id": user_id, "kind": kind, "recipient": user.email, "subject": email_subject,
                "body_text": body, "status": OutboxStatus.PENDING, "created_at": now, "attempts": 0,
                "next_attempt_at": now,
            })
        told += chosen.in_app or by_email
    if in_app_rows:
        db.session.execute(sa.insert(Notification), in_app_rows)
    if email_rows:
        db.session.execute(sa.insert(OutboxEmail), email_rows)
    return told


def notify(user: User | None, kind: NotificationKind, subject_link: str, *, actor: User | None = None,
           subject=None, **params: Any) -> bool:
    """Tell ``user`` about ``kind`` (in the app and/or by e-mail, as they chose), linking to
    ``subject_link`` (a path of this site: :func:`pbvote.notifications.links.link_to`); ``params``
    fill the message (text, numbers, dates).  ``actor``, who caused it, is never told and is named
    in the message; ``subject`` (a model) is recorded as what it is about.

    Written in the caller's transaction; the e-mail is sent by the worker after the commit.
    Returns whether ``user`` was told by some channel.
    """
    return deliver([user], kind, subject_link, actor=actor, subject=subject, params=params) > 0


def announce(kind: NotificationKind, subject, subject_link: str, cycle_id: int, **params: Any) -> int | None:
    """Tell everyone who took part in cycle ``cycle_id`` (:mod:`pbvote.notifications.participants`)
    about ``kind`` of ``subject``, once: the first call stores a marker, later ones (from any
    worker, at any time) find it and return None.  Returns how many people were told."""
    kind = NotificationKind(kind)
    subject_type, subject_id = _subject_ref(subject)
    marker = Announcement(kind=kind, subject_type=subject_type, subject_id=subject_id, announced_at=utcnow())
    try:
        with db.session.begin_nested():
            db.session.add(marker)
            db.session.flush()
    except sa.exc.IntegrityError:  # announced already (perhaps a moment ago, by another worker)
        return None
    ids = sorted(db.session.scalars(participant_ids(cycle_id)))
    told = 0
    # In chunks, so a cycle with tens of thousands of participants never holds them all at once.
    for start in range(0, len(ids), ANNOUNCE_CHUNK):
        users = db.session.scalars(sa.select(User).where(User.id.in_(ids[start:start + ANNOUNCE_CHUNK]))).all()
        told += deliver(users, kind, subject_link, subject=subject, params=params)
    marker.recipient_count = told
    db.session.flush()
    audit.record("notifications.announced", subject=subject, kind=kind.value, recipients=told)
    return told


def is_announced(kind: NotificationKind, subject) -> bool:
    subject_type, subject_id = _subject_ref(subject)
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(Announcement).where(
            Announcement.kind == NotificationKind(kind), Announcement.subject_type == subject_type,
            Announcement.subject_id == subject_id,
        )
    ) > 0


def announced_ids(kind: NotificationKind, subject_type: str) -> sa.Select:
    """A ``SELECT`` of the ids of the subjects of ``subject_type`` already announced as ``kind``
    (for a domain's query of what is still to announce)."""
    return sa.select(Announcement.subject_id).where(
        Announcement.kind == NotificationKind(kind), Announcement.subject_type == subject_type
    )


# -- reading ------------------------------------------------------------------------------------


def unread_count(user: User) -> int:
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(Notification).where(
            Notification.user_id == user.id, Notification.read_at.is_(None)
        )
    )


def notifications_statement(user: User) -> sa.Select:
    """``user``'s notifications: unread first, then newest first."""
    return (
        sa.select(Notification).where(Notification.user_id == user.id)
        .order_by(sa.case((Notification.read_at.is_(None), 0), else_=1), Notification.created_at.desc(),
                  Notification.id.desc())
    )


def mark_read(user: User, notification: Notification) -> Notification:
    if notification.user_id != user.id:
        raise NotAllowed()
    if notification.read_at is None:
        notification.read_at = utcnow()
        db.session.flush()
    return notification


def mark_all_read(user: User) -> int:
    """Mark every unread notification of ``user`` read; returns how many."""
    return db.session.execute(
        sa.update(Notification).where(Notification.user_id == user.id, Notification.read_at.is_(None))
        .values(read_at=utcnow()).execution_options(synchronize_session=False)
    ).rowcount


# -- the outbox, for staff ----------------------------------------------------------------------


def outbox_counts() -> dict[str, int]:
    """How many e-mails wait (``pending``), wait after a failed attempt (``retrying``), were given
    up (``failed``), or were sent (``sent``)."""
    retrying = sa.and_(OutboxEmail.status == OutboxStatus.PENDING, OutboxEmail.attempts > 0)
    label = sa.case((retrying, "retrying"), else_=OutboxEmail.status)
    rows = db.session.execute(sa.select(label, sa.func.count()).group_by(label))
    counts = {"pending": 0, "retrying": 0, "failed": 0, "sent": 0}
    counts.update({str(getattr(name, "value", name)): n for name, n in rows})
    return counts


def troubled_emails_statement() -> sa.Select:
    """E-mails given up on, then those waiting for another attempt, newest first."""
    return (
        sa.select(OutboxEmail)
        .where(sa.or_(OutboxEmail.status == OutboxStatus.FAILED,
                      sa.and_(OutboxEmail.status == OutboxStatus.PENDING, OutboxEmail.last_error.is_not(None))))
        .order_by(sa.case((OutboxEmail.status == OutboxStatus.FAILED, 0), else_=1), OutboxEmail.created_at.desc(),
                  OutboxEmail.id.desc())
    )


def requeue_email(staff: User, email: OutboxEmail) -> OutboxEmail:
    """Send a given-up e-mail again from now, with a fresh count of attempts."""
    if not staff.has_role(Role.STAFF):
        raise NotAllowed()
    if email.status != OutboxStatus.FAILED:
        raise Conflict(_("Only an e-mail that was given up on can be sent again."))
    email.status = OutboxStatus.PENDING
    email.attempts = 0
    email.next_attempt_at = utcnow()
    db.session.flush()
    audit.record("outbox.requeued", actor=staff, subject=email, recipient=email.recipient)
    return email

