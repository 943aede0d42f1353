"""The mail worker (``pbvote worker``; ``pbvote up`` runs one): dated announcements, then the outbox.

Each pass:

1. sends :data:`worker_pass`; domains that announce something by date listen to it (voting opening:
   ``pbvote.ballots.notices``), each in its own transaction;
2. sends the e-mails that are due, in batches: it *claims* a batch (counts the attempt and moves
   ``next_attempt_at`` a lease ahead, committed at once), sends each e-mail, and records each
   outcome in its own commit: sent once the server accepted it; otherwise due again after a
   backoff (1, 2, 4 … minutes, at most 4 hours), or given up after ``PBVOTE_MAIL_MAX_ATTEMPTS`` with
   the error kept for staff (``/staff/outbox``).

Several workers may run.  The claim is one ``UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP
LOCKED)``: on PostgreSQL each worker skips the rows another is claiming, and once a claim is
committed the lease keeps the rows from being due; SQLite runs writers one at a time (``BEGIN
IMMEDIATE``), so its claims never overlap.  A worker that dies after claiming leaves its e-mails
due again when the lease ends, so nothing is lost; one that stops sending before its lease ends
hands the rest back.  Delivery is at least once: an e-mail is sent twice only if a worker dies
between the server's acceptance and the commit that records it.
"""
from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from blinker import ANY, Namespace
from flask import current_app

from pbvote.extensions import db
from pbvote.notifications.mail import MailSettings, Outgoing, connect, connection_lost, describe_error
from pbvote.notifications.models import OutboxEmail, OutboxStatus
from pbvote.timeutil import utcnow

log = logging.getLogger(__name__)

_signals = Namespace()
#: Sent once per pass of the worker, with ``now`` (naive UTC): receivers find what is due by date
#: and announce it (through :func:`pbvote.notifications.services.announce`).  Each receiver runs
#: in its own transaction, committed after it returns, rolled back and logged if it raises.  What
#: it returns is reported (a count, or None for nothing done).
worker_pass = _signals.signal("pbvote-worker-pass")

#: How long a claimed e-mail belongs to the worker that claimed it.
LEASE = timedelta(minutes=10)
#: A worker sends from a claimed batch only this long after claiming it, then hands the rest back,
#: so that no other worker can claim an e-mail (its lease ended) while this one is still sending it.
SEND_WITHIN = LEASE / 2
#: E-mails claimed (and sent over one connection) at a time.
BATCH_SIZE = 20
RETRY_FIRST = timedelta(minutes=1)
RETRY_LONGEST = timedelta(hours=4)
DEFAULT_MAX_ATTEMPTS = 10


def retry_delay(attempts: int) -> timedelta:
    """How long to wait after the ``attempts``-th failed attempt: 1, 2, 4 … minutes, at most 4 hours."""
    return min(RETRY_FIRST * 2 ** min(max(attempts - 1, 0), 20), RETRY_LONGEST)


@dataclass
class PassReport:
    """What one pass did."""

    sent: int = 0
    retrying: int = 0
    failed: int = 0
    #: Each job (receiver of :data:`worker_pass`) by name: what it returned.
    jobs: dict[str, object] = field(default_factory=dict)
    #: Jobs that raised (logged with their traceback).
    job_errors: list[str] = field(default_factory=list)

    def describe(self) -> str:
        parts = [f"{self.sent} e-mail(s) sent", f"{self.retrying} to retry", f"{self.failed} given up"]
        done = [f"{name}: {result}" for name, result in self.jobs.items() if result]
        if done:
            parts.append("; ".join(done))
        if self.job_errors:
            parts.append("failed: " + ", ".join(self.job_errors))
        return ", ".join(parts)


def _job_name(receiver: Callable) -> str:
    return f"{getattr(receiver, '__module__', '?')}.{getattr(receiver, '__qualname__', repr(receiver))}"


def run_jobs(report: PassReport, now: datetime | None = None) -> None:
    """Run every receiver of :data:`worker_pass`, each in its own transaction."""
    app = current_app._get_current_object()
    for receiver in list(worker_pass.receivers_for(ANY)):
        name = _job_name(receiver)
        try:
            result = receiver(app, now=now or utcnow())
            db.session.commit()
        except Exception:
            db.session.rollback()
            log.exception("worker job %s failed", name)
            report.job_errors.append(name)
        else:
            report.jobs[name] = result


def claim(now: datetime, limit: int = BATCH_SIZE) -> list[tuple[Outgoing, int]]:
    """Claim up to ``limit`` due e-mails for this worker (committed); each with its attempt number."""
    due = (
        sa.select(OutboxEmail.id)
        .where(OutboxEmail.status == OutboxStatus.PENDING, OutboxEmail.next_attempt_at <= now)
        .order_by(OutboxEmail.next_attempt_at, OutboxEmail.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    statement = (
        sa.update(OutboxEmail)
        .where(OutboxEmail.id.in_(due.scalar_subquery()))
        .values(attempts=OutboxEmail.attempts + 1, last_attempt_at=now, next_attempt_at=now + LEASE)
        .returning(OutboxEmail.id, OutboxEmail.recipient, OutboxEmail.subject, OutboxEmail.body_text,
                   OutboxEmail.attempts)
        .execution_options(synchronize_session=False)
    )
    rows = db.session.execute(statement).all()
    db.session.commit()
    return sorted(((Outgoing(id_, recipient, subject, body), attempts)
                   for id_, recipient, subject, body, attempts in rows), key=lambda pair: pair[0].id)


def _update(email_id: int, **values) -> None:
    db.session.execute(
        sa.update(OutboxEmail).where(OutboxEmail.id == email_id, OutboxEmail.status == OutboxStatus.PENDING)
        .values(**values).execution_options(synchronize_session=False)
    )
    db.session.commit()


def _sent(email: Outgoing, now: datetime, report: PassReport) -> None:
    _update(email.id, status=OutboxStatus.SENT, sent_at=now)
    report.sent += 1


def _attempt_failed(email: Outgoing, attempts: int, error: str, now: datetime, max_attempts: int,
                    report: PassReport) -> None:
    if attempts >= max_attempts:
        _update(email.id, status=OutboxStatus.FAILED, last_error=error)
        report.failed += 1
        log.error("gave up on e-mail %d to %s after %d attempts: %s", email.id, email.recipient, attempts, error)
    else:
        _update(email.id, last_error=error, next_attempt_at=now + retry_delay(attempts))
        report.retrying += 1
        log.warning("e-mail %d to %s not sent (attempt %d of %d), retrying later: %s",
                    email.id, email.recipient, attempts, max_attempts, error)


def _hand_back(emails: list[tuple[Outgoing, int]], now: datetime) -> None:
    """Return claimed e-mails not tried (the lease is running out): due now, the attempt uncounted."""
    for email, _attempts in emails:
        db.session.execute(
            sa.update(OutboxEmail).where(OutboxEmail.id == email.id, OutboxEmail.status == OutboxStatus.PENDING)
            .values(attempts=OutboxEmail.attempts - 1, next_attempt_at=now)
            .execution_options(synchronize_session=False)
        )
    db.session.commit()


def send_batch(claimed: list[tuple[Outgoing, int]], settings: MailSettings, report: PassReport,
               now: datetime | None = None, max_attempts: int | None = None) -> None:
    """Send claimed e-mails over one connection and record each outcome."""
    max_attempts = max_attempts or int(current_app.config.get("PBVOTE_MAIL_MAX_ATTEMPTS") or DEFAULT_MAX_ATTEMPTS)
    started = time.monotonic()
    try:
        connection = connect(settings).__enter__()
    except Exception as error:  # the server is down or refuses us: every e-mail waits for a later try
        message = describe_error(error)
        for email, attempts in claimed:
            _attempt_failed(email, attempts, message, now or utcnow(), max_attempts, report)
        return
    try:
        for index, (email, attempts) in enumerate(claimed):
            if time.monotonic() - started > SEND_WITHIN.total_seconds():
                _hand_back(claimed[index:], now or utcnow())
                return
            try:
                connection.send(email)
            except Exception as error:
                message = describe_error(error)
                _attempt_failed(email, attempts, message, now or utcnow(), max_attempts, report)
                if connection_lost(error):
                    for rest, rest_attempts in claimed[index + 1:]:
                        _attempt_failed(rest, rest_attempts, message, now or utcnow(), max_attempts, report)
                    return
            else:
                _sent(email, now or utcnow(), report)
    finally:
        connection.__exit__(None, None, None)


def send_due(settings: MailSettings | None = None, report: PassReport | None = None, *,
             now: datetime | None = None, batch_size: int = BATCH_SIZE) -> PassReport:
    """Send every e-mail that is due, batch by batch, until none is left."""
    settings = settings or MailSettings.from_config(current_app.config)
    report = report or PassReport()
    while True:
        claimed = claim(now or utcnow(), batch_size)
        if not claimed:
            return report
        send_batch(claimed, settings, report, now)
        if len(claimed) < batch_size:
            return report


def run_pass(settings: MailSettings | None = None, *, now: datetime | None = None) -> PassReport:
    """One pass: the dated announcements, then the due e-mails."""
    report = PassReport()
    try:
        run_jobs(report, now)
        send_due(settings, report, now=now)
    finally:
        db.session.rollback()  # whatever happened, no transaction is left open between passes
    return report


def run_forever(settings: MailSettings, interval: float, stop: threading.Event | None = None,
                parent_pid: int | None = None) -> None:
    """Pass after pass, ``interval`` seconds apart, until ``stop`` is set (or, with ``parent_pid``,
    the process that started this one is gone).  A pass that fails (the database is unreachable) is
    logged, and the next one tries again."""
    stop = stop or threading.Event()
    while not stop.is_set():
        try:
            report = run_pass(settings)
        except Exception:
            log.exception("mail worker pass failed; trying again in %s s", interval)
            report = None
        finally:
            db.session.remove()  # a fresh session (and a pooled connection) for every pass
        if report is not None and (report.sent or report.retrying or report.failed or report.job_errors
                                   or any(report.jobs.values())):
            log.info("mail worker: %s", report.describe())
        deadline = time.monotonic() + interval
        while not stop.is_set() and time.monotonic() < deadline:
            if parent_pid is not None and os.getppid() != parent_pid:
                log.info("mail worker: the process that started it has ended; stopping")
                return
            stop.wait(min(1.0, max(deadline - time.monotonic(), 0)))
