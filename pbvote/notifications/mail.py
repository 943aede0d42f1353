"""E-mail: rendering a notification's e-mail, and the two ways the worker sends one.

Rendering happens when the notification is written (in the caller's transaction), from
``templates/notifications/email/<kind>.txt`` in the site's default language (``PBVOTE_DEFAULT_LOCALE``:
the outbox does not know which language a person reads), with the site's name and absolute links.

Sending is the worker's (:mod:`pbvote.notifications.worker`): through the SMTP server of the
``PBVOTE_MAIL_*`` settings with the standard library's ``smtplib`` (one connection per batch), or,
with no server configured, into the log.  ``smtplib`` is used directly: a mail library would add a
dependency for the dozen lines below, and the outbox, retries and claiming are ours either way.
"""
from __future__ import annotations

import logging
import re
import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid, parseaddr
from typing import Any
from urllib.parse import urlsplit

from flask import current_app, render_template
from flask_babel import force_locale

from pbvote.i18n import recipient_locale
from pbvote.notifications.kinds import KindSpec, Params
from pbvote.notifications.links import absolute_url, link_to

log = logging.getLogger(__name__)

SECURITY_MODES = ("none", "starttls", "ssl")
DEFAULT_PORTS = {"none": 25, "starttls": 587, "ssl": 465}
SUBJECT_LENGTH = 300


class MailConfigError(ValueError):
    """A ``PBVOTE_MAIL_*`` setting that cannot work (an unknown security mode)."""


# -- rendering ----------------------------------------------------------------------------------


def one_line(text: str, limit: int = SUBJECT_LENGTH) -> str:
    """``text`` on one line (a title with a line break must not end an e-mail header), shortened."""
    text = re.sub(r"\s+", " ", text).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def render_email(user, spec: KindSpec, link: str, params: Mapping[str, Any]) -> tuple[str, str]:
    """The subject and text body of ``spec``'s e-mail to ``user``, in the language saved on their
    account (else the site's default language: :func:`pbvote.i18n.recipient_locale`)."""
    config = current_app.config
    site_name = config["PBVOTE_SITE_NAME"]
    with force_locale(recipient_locale(user)):
        values = Params(params)
        subject = one_line(f"[{site_name}] {spec.email_subject(values)}")
        body = render_template(
            spec.email_template,
            user=user,
            params=values,
            message=spec.message(values),
            link=absolute_url(link),
            preferences_link=absolute_url(link_to("notifications.preferences")),
            site_name=site_name,
            when=_when,
        )
    return subject, body.strip() + "\n"


def _when(value: str | None, zone: str | None = None) -> str:
    """A stored ISO date and time (naive UTC) in words, in the e-mail's language and ``zone`` (the
    cycle's, which the message's parameters carry), else the site's zone."""
    from pbvote.templating import datetime_format  # shared helper; imported late (Markdown, nh3)

    try:
        return datetime_format(datetime.fromisoformat(value), "long", zone)
    except (TypeError, ValueError):
        return value or ""


# -- sending ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MailSettings:
    """How the worker sends e-mail, read from the ``PBVOTE_MAIL_*`` settings."""

    server: str | None
    port: int
    username: str | None
    password: str | None = field(repr=False)  # never in a log line or a traceback's locals
    security: str
    sender: str
    timeout: float

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> MailSettings:
        security = (config.get("PBVOTE_MAIL_SECURITY") or "none").strip().lower()
        if security not in SECURITY_MODES:
            raise MailConfigError(
                f"PBVOTE_MAIL_SECURITY must be one of {', '.join(SECURITY_MODES)}, not {security!r}"
            )
        sender = (config.get("PBVOTE_MAIL_SENDER") or "").strip()
        if not sender:
            host = urlsplit(config.get("PBVOTE_BASE_URL") or "").hostname or "localhost"
            sender = f"noreply@{host}"
        name, address = parseaddr(sender)
        if "@" not in address:
            raise MailConfigError(f"PBVOTE_MAIL_SENDER must be an e-mail address, not {sender!r}")
        if not name:
            sender = formataddr((config.get("PBVOTE_SITE_NAME") or "pbvote", address))
        return cls(
            server=(config.get("PBVOTE_MAIL_SERVER") or "").strip() or None,
            port=int(config.get("PBVOTE_MAIL_PORT") or DEFAULT_PORTS[security]),
            username=config.get("PBVOTE_MAIL_USERNAME") or None,
            password=config.get("PBVOTE_MAIL_PASSWORD") or None,
            security=security,
            sender=sender,
            timeout=float(config.get("PBVOTE_MAIL_TIMEOUT") or 30),
        )

    def describe(self) -> str:
        """Where e-mail goes, in words (for ``pbvote up`` and the worker's first line)."""
        if self.server is None:
            return "the log (PBVOTE_MAIL_SERVER is not set)"
        security = {"none": "no encryption", "starttls": "STARTTLS", "ssl": "SSL"}[self.security]
        return f"{self.server}:{self.port} ({security})"


@dataclass(frozen=True)
class Outgoing:
    """A claimed e-mail on its way out."""

    id: int
    recipient: str
    subject: str
    body_text: str


def build_message(settings: MailSettings, email: Outgoing) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.sender
    message["To"] = email.recipient
    message["Subject"] = one_line(email.subject)
    message["Date"] = formatdate(localtime=False, usegmt=True)
    domain = parseaddr(settings.sender)[1].rpartition("@")[2] or "localhost"
    message["Message-ID"] = make_msgid(idstring=f"pbvote-outbox-{email.id}", domain=domain)
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies, please
    message.set_content(email.body_text)
    return message


class LogConnection:
    """No mail server configured: each e-mail is written to the log (and counts as sent)."""

    def __init__(self, settings: MailSettings):
        self.settings = settings

    def __enter__(self) -> LogConnection:
        return self

    def __exit__(self, *exc) -> None:
        return None

    def send(self, email: Outgoing) -> None:
        log.info(
            "E-mail (no PBVOTE_MAIL_SERVER configured, so written here instead of sent)\n"
            "From: %s\nTo: %s\nSubject: %s\n\n%s",
            self.settings.sender, email.recipient, one_line(email.subject), email.body_text,
        )


class SmtpConnection:
    """One SMTP session for a batch: connect (SSL, or STARTTLS), log in, send each e-mail, quit.

    Errors are smtplib's (``SMTPException``) or the socket's (``OSError``); the worker tells a lost
    connection from one e-mail refused with :func:`connection_lost`.
    """

    def __init__(self, settings: MailSettings):
        self.settings = settings
        self.smtp: smtplib.SMTP | None = None

    def __enter__(self) -> SmtpConnection:
        s = self.settings
        if s.security == "ssl":
            smtp = smtplib.SMTP_SSL(s.server, s.port, timeout=s.timeout, context=ssl.create_default_context())
        else:
            smtp = smtplib.SMTP(s.server, s.port, timeout=s.timeout)
        try:
            if s.security == "starttls":
                smtp.starttls(context=ssl.create_default_context())
            if s.username:
                smtp.login(s.username, s.password or "")
        except BaseException:
            smtp.close()
            raise
        self.smtp = smtp
        return self

    def __exit__(self, *exc) -> None:
        if self.smtp is None:
            return
        try:
            self.smtp.quit()
        except (smtplib.SMTPException, OSError):
            self.smtp.close()

    def send(self, email: Outgoing) -> None:
        # send_message raises unless the server accepted the message for the one recipient.
        self.smtp.send_message(build_message(self.settings, email))


def connect(settings: MailSettings) -> LogConnection | SmtpConnection:
    """A connection to use as a context manager for one batch."""
    return LogConnection(settings) if settings.server is None else SmtpConnection(settings)


def connection_lost(error: BaseException) -> bool:
    """True when ``error`` ends the whole session (the server went away), not just one e-mail."""
    if isinstance(error, smtplib.SMTPServerDisconnected):
        return True
    # smtplib's errors are OSErrors too: those answer one command, the others are the socket's.
    return isinstance(error, OSError) and not isinstance(error, smtplib.SMTPException)


def describe_error(error: BaseException) -> str:
    """The error in one line for the outbox (kept for staff)."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        parts = [f"{code} {msg.decode(errors='replace') if isinstance(msg, bytes) else msg}"
                 for code, msg in error.recipients.values()]
        return one_line("recipient refused: " + "; ".join(parts), 2000)
    if isinstance(error, smtplib.SMTPResponseException):
        message = error.smtp_error.decode(errors="replace") if isinstance(error.smtp_error, bytes) else error.smtp_error
        return one_line(f"{type(error).__name__}: {error.smtp_code} {message}", 2000)
    return one_line(f"{type(error).__name__}: {error}", 2000)
