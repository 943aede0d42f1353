"""The mail worker against a real SMTP server on loopback (aiosmtpd), on the test's database."""
from __future__ import annotations

import logging
import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from pbvote.extensions import db
from pbvote.notifications import services, worker
from pbvote.notifications.kinds import NotificationKind
from pbvote.notifications.mail import MailConfigError, MailSettings
from pbvote.notifications.models import OutboxEmail, OutboxStatus
from pbvote.timeutil import utcnow

from .conftest import MailServer, free_port, in_fresh_context, use_mail_server

INVITED = NotificationKind.COAUTHOR_INVITED


def queue(make_user, n: int = 1, **user_fields) -> list:
    """``n`` e-mails in the outbox (committed), one per new resident; returns the residents."""
    users = [make_user(**user_fields) for _ in range(n)]
    for i, user in enumerate(users):
        services.notify(user, INVITED, "/my/proposals", proposal=f"Proposal {i}")
    db.session.commit()
    return users


def emails() -> list[OutboxEmail]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(OutboxEmail).order_by(OutboxEmail.id)))


def test_due_emails_are_sent_through_smtp_and_marked_sent(app, make_user, mail_server, base_url):
    app.config["PBVOTE_MAIL_SENDER"] = "council@greenhill.example"
    (user,) = queue(make_user, email="ann@example.org")
    report = worker.run_pass()
    assert (report.sent, report.retrying, report.failed) == (1, 0, 0)
    (message,) = mail_server.messages
    assert message["To"] == "ann@example.org"
    assert message["From"] == "Greenhill Budget <council@greenhill.example>"
    assert message["Subject"] == "[Greenhill Budget] Invitation to co-author “Proposal 0”"
    assert message["Auto-Submitted"] == "auto-generated" and "@greenhill.example>" in message["Message-ID"]
    assert "https://budget.example.org/my/proposals" in message.get_content()
    (email,) = emails()
    assert email.status == OutboxStatus.SENT and email.sent_at is not None and email.attempts == 1
    assert worker.run_pass().sent == 0  # sent once, never again


def test_a_mail_server_that_is_down_loses_nothing(app, make_user, down_mail_server):
    queue(make_user, 3)
    now = utcnow()
    report = worker.run_pass(now=now)
    assert (report.sent, report.retrying, report.failed) == (0, 3, 0)
    for email in emails():
        assert email.status == OutboxStatus.PENDING and email.attempts == 1
        assert "ConnectionRefusedError" in email.last_error
        assert email.next_attempt_at == now + worker.retry_delay(1)
    assert worker.run_pass(now=now + timedelta(seconds=30)).retrying == 0  # not due again yet
    down_mail_server.start()
    report = worker.run_pass(now=now + timedelta(minutes=2))
    assert report.sent == 3 and len(down_mail_server.messages) == 3
    assert {e.status for e in emails()} == {OutboxStatus.SENT}


def test_backoff_doubles_up_to_four_hours():
    assert [worker.retry_delay(n) for n in (1, 2, 3, 4)] == [timedelta(minutes=m) for m in (1, 2, 4, 8)]
    assert worker.retry_delay(9) == worker.retry_delay(40) == timedelta(hours=4)


def test_after_too_many_attempts_an_email_is_given_up_with_its_error(app, make_user, down_mail_server, caplog):
    app.config["PBVOTE_MAIL_MAX_ATTEMPTS"] = 3
    queue(make_user)
    now = utcnow()
    with caplog.at_level(logging.ERROR, logger="pbvote.notifications.worker"):
        for step in range(3):
            worker.run_pass(now=now + timedelta(hours=5 * step))
    (email,) = emails()
    assert email.status == OutboxStatus.FAILED and email.attempts == 3
    assert "ConnectionRefusedError" in email.last_error
    assert any("gave up on e-mail" in r.getMessage() for r in caplog.records)
    assert services.outbox_counts()["failed"] == 1
    down_mail_server.start()
    assert worker.run_pass(now=now + timedelta(days=1)).sent == 0  # given up: not tried again


def test_a_refused_recipient_does_not_hold_up_the_others(app, make_user, mail_server):
    users = queue(make_user, 3)
    mail_server.refuse.add(users[1].email)
    report = worker.run_pass()
    assert (report.sent, report.retrying) == (2, 1)
    assert sorted(m["To"] for m in mail_server.messages) == sorted([users[0].email, users[2].email])
    refused = next(e for e in emails() if e.recipient == users[1].email)
    assert refused.status == OutboxStatus.PENDING and "550" in refused.last_error and "No such mailbox" in refused.last_error


def test_the_worker_logs_in_when_given_credentials(app, make_user):
    server = MailServer(port=free_port(), credentials=("pbvote", "s3cret"))
    server.start()
    try:
        use_mail_server(app, server.port, PBVOTE_MAIL_USERNAME="pbvote", PBVOTE_MAIL_PASSWORD="wrong")
        queue(make_user)
        assert worker.run_pass().retrying == 1
        assert "535" in emails()[0].last_error  # authentication refused: kept, tried again later
        app.config["PBVOTE_MAIL_PASSWORD"] = "s3cret"
        assert worker.run_pass(now=utcnow() + timedelta(minutes=5)).sent == 1
        assert server.logins == ["pbvote"] and len(server.messages) == 1
    finally:
        server.stop()


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_the_worker_speaks_tls_and_checks_the_certificate(app, make_user, tls_files, monkeypatch, security):
    server = MailServer(port=free_port(), tls=security, tls_files=tls_files, credentials=("pbvote", "s3cret"))
    server.start()
    try:
        use_mail_server(app, server.port, PBVOTE_MAIL_SECURITY=security, PBVOTE_MAIL_USERNAME="pbvote",
                        PBVOTE_MAIL_PASSWORD="s3cret")
        queue(make_user)
        report = worker.run_pass()  # the certificate is not trusted: refused, kept for later
        assert report.retrying == 1 and "CERTIFICATE_VERIFY_FAILED" in emails()[0].last_error
        monkeypatch.setenv("SSL_CERT_FILE", tls_files[0])  # now it is (OpenSSL reads this on each new context)
        assert worker.run_pass(now=utcnow() + timedelta(minutes=5)).sent == 1
        assert server.logins == ["pbvote"] and len(server.messages) == 1
    finally:
        server.stop()


def test_without_a_mail_server_emails_are_written_to_the_log(app, make_user, caplog):
    app.config["PBVOTE_MAIL_SERVER"] = None
    (user,) = queue(make_user)
    with caplog.at_level(logging.INFO, logger="pbvote.notifications.mail"):
        report = worker.run_pass()
    assert report.sent == 1
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert f"To: {user.email}" in logged and "Invitation to co-author “Proposal 0”" in logged
    assert "Hello " in logged and "/my/proposals" in logged
    assert emails()[0].status == OutboxStatus.SENT


@pytest.mark.parametrize("workers", [4])
def test_several_workers_never_send_one_email_twice(app, make_user, mail_server, workers):
    queue(make_user, 24)
    mail_server.delay = 0.02  # each acceptance takes a moment, so the workers overlap
    db.session.commit()
    db.session.close()  # the test's own connection holds no lock while the workers run
    settings = MailSettings.from_config(app.config)
    barrier = threading.Barrier(workers)
    reports, errors = [], []

    def run():
        try:
            barrier.wait()
            reports.append(in_fresh_context(app, worker.send_due, settings, batch_size=3))
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert sum(r.sent for r in reports) == 24
    recipients = [m["To"] for m in mail_server.messages]
    assert len(recipients) == 24 and len(set(recipients)) == 24
    assert sum(1 for r in reports if r.sent) >= 2, "the workers did not share the work"
    assert {e.status for e in emails()} == {OutboxStatus.SENT} and {e.attempts for e in emails()} == {1}


def test_a_claim_left_by_a_dead_worker_is_sent_after_its_lease(app, make_user, mail_server):
    queue(make_user, 2)
    now = utcnow()
    claimed = worker.claim(now)  # ... and the worker dies before sending
    assert len(claimed) == 2 and worker.run_pass(now=now + timedelta(minutes=1)).sent == 0
    assert worker.run_pass(now=now + worker.LEASE).sent == 2
    assert len(mail_server.messages) == 2 and {e.attempts for e in emails()} == {2}


def test_a_worker_hands_back_what_it_cannot_send_within_its_lease(app, make_user, mail_server, monkeypatch):
    queue(make_user, 3)
    mail_server.delay = 0.3  # the first e-mail takes longer than the worker may go on sending
    monkeypatch.setattr(worker, "SEND_WITHIN", timedelta(seconds=0.1))
    now = utcnow()
    report = worker.send_due(now=now)
    assert report.sent == 1
    waiting = [e for e in emails() if e.status == OutboxStatus.PENDING]
    assert len(waiting) == 2 and all(e.attempts == 0 and e.next_attempt_at == now for e in waiting)


def test_a_failing_job_is_logged_and_the_rest_of_the_pass_goes_on(app, make_user, mail_server, caplog):
    queue(make_user)

    def broken(sender, now):
        raise RuntimeError("boom")

    def fine(sender, now):
        return 7

    worker.worker_pass.connect(broken)
    worker.worker_pass.connect(fine)
    try:
        with caplog.at_level(logging.ERROR, logger="pbvote.notifications.worker"):
            report = worker.run_pass()
    finally:
        worker.worker_pass.disconnect(broken)
        worker.worker_pass.disconnect(fine)
    assert report.sent == 1 and any(name.endswith("broken") for name in report.job_errors)
    assert any(name.endswith("fine") and result == 7 for name, result in report.jobs.items())
    assert "boom" in caplog.text


@pytest.mark.parametrize("settings, message", [
    ({"PBVOTE_MAIL_SECURITY": "tls"}, "PBVOTE_MAIL_SECURITY must be one of none, starttls, ssl"),
    ({"PBVOTE_MAIL_SENDER": "nobody"}, "PBVOTE_MAIL_SENDER must be an e-mail address"),
])
def test_settings_that_cannot_work_are_refused(settings, message):
    with pytest.raises(MailConfigError, match=message):
        MailSettings.from_config(settings)


def test_settings_have_sensible_defaults():
    settings = MailSettings.from_config({"PBVOTE_MAIL_SERVER": "smtp.example.org", "PBVOTE_MAIL_SECURITY": "starttls",
                                         "PBVOTE_BASE_URL": "https://budget.example.org/pb", "PBVOTE_SITE_NAME": "PB"})
    assert (settings.port, settings.sender) == (587, "PB <noreply@budget.example.org>")
    assert settings.describe() == "smtp.example.org:587 (STARTTLS)"
    assert MailSettings.from_config({"PBVOTE_MAIL_SECURITY": "ssl"}).port == 465
    assert MailSettings.from_config({}).describe().startswith("the log")
