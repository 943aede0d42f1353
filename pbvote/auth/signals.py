"""What the accounts domain announces to the domains above it (blinker signals).

``auth`` is the lowest domain: it cannot call the notifications domain to send an e-mail, so it
says what happened and :mod:`pbvote.notifications.account` listens (connected by
:mod:`pbvote.notifications.setup`, which ``create_app`` imports).
"""
from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

#: A link to confirm an account's e-mail address is to be sent: ``sender`` is the
#: :class:`~pbvote.auth.models.User`, ``link`` the path of the confirmation page, ``valid_days``.
email_confirmation_requested = _signals.signal("auth.email-confirmation-requested")

#: A password reset was asked for an active account: ``sender`` is the :class:`~pbvote.auth.models.User`,
#: ``link`` the path of the reset page (it holds the token), ``valid_minutes`` how long it works.
#: Sent inside the request's transaction: the e-mail is written to the outbox with it.
password_reset_requested = _signals.signal("auth.password-reset-requested")
