"""E-mails about the account itself (a password-reset link, the link confirming an address): always sent, whatever the person
chose for notifications, never shown in the app, and written to the outbox in the transaction of
the request that asked for them, like every e-mail (:mod:`pbvote.notifications.services`).

The accounts domain lies below this one, so it announces the request
(:data:`pbvote.auth.signals.password_reset_requested`) and the receiver here writes the e-mail;
importing this module connects it (:mod:`pbvote.notifications.setup`).
"""
from __future__ import annotations

import sqlalchemy as sa
from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _

from pbvote.auth.models import User
from pbvote.auth.signals import email_confirmation_requested, password_reset_requested
from pbvote.extensions import db
from pbvote.i18n import recipient_locale
from pbvote.notifications.links import absolute_url
from pbvote.notifications.mail import one_line
from pbvote.notifications.models import OutboxEmail, OutboxStatus
from pbvote.timeutil import utcnow


def queue_account_email(user: User, subject: str, template: str, **values) -> None:
    """Write an account e-mail for ``user`` to the outbox (rendered now, sent after the commit)."""
    now = utcnow()
    db.session.execute(sa.insert(OutboxEmail), [{
        "user_id": user.id, "kind": None, "recipient": user.email,
        "subject": one_line(f"[{current_app.config['PBVOTE_SITE_NAME']}] {subject}"),
        "body_text": render_template(template, user=user, site_name=current_app.config["PBVOTE_SITE_NAME"],
                                     **values).strip() + "\n",
        "status": OutboxStatus.PENDING, "created_at": now, "attempts": 0, "next_attempt_at": now,
    }])


@password_reset_requested.connect
def send_password_reset(user: User, *, link: str, valid_minutes: int, **_ignored) -> None:
    with force_locale(recipient_locale(user)):
        queue_account_email(user, _("Choose a new password"), "notifications/email/password_reset.txt",
                            link=absolute_url(link), valid_minutes=valid_minutes)


@email_confirmation_requested.connect
def send_email_confirmation(user: User, *, link: str, valid_days: int, **_ignored) -> None:
    with force_locale(recipient_locale(user)):
        queue_account_email(user, _("Confirm your e-mail address"), "notifications/email/confirm_email.txt",
                            link=absolute_url(link), valid_days=valid_days)
