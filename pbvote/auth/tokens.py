"""Signed, expiring tokens for links sent by e-mail: a password reset (single use) and the
confirmation of an e-mail address.

A token is the account id and a fingerprint of the account's current password hash and session
version, signed with the app's secret key and a purpose (salt), dated when made.  It works for
``PBVOTE_PASSWORD_RESET_MINUTES`` and only once: setting a new password changes the hash, so every
earlier link of the account stops working at once (as do links sent before a sign-out everywhere).
Nothing is stored: a link can be neither listed nor stolen from the database.
"""
from __future__ import annotations

import hashlib
import hmac

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from pbvote.auth.models import User
from pbvote.extensions import db

PASSWORD_RESET = "pbvote.password-reset"
EMAIL_CONFIRMATION = "pbvote.email-confirmation"
#: How long a link to confirm an e-mail address works.
CONFIRMATION_DAYS = 7
#: Longer input is not a token of ours (the route's converter and this check bound the work).
MAX_TOKEN_LENGTH = 200


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=purpose)


def _fingerprint(user: User) -> str:
    state = f"{user.password_hash}|{user.session_version or 1}".encode()
    return hashlib.sha256(state).hexdigest()[:16]


def make_reset_token(user: User) -> str:
    return _serializer(PASSWORD_RESET).dumps({"u": user.id, "f": _fingerprint(user)})


def reset_minutes() -> int:
    return int(current_app.config["PBVOTE_PASSWORD_RESET_MINUTES"])


def _signed_user(purpose: str, token: str, max_age: int, claim: str) -> tuple[User, str] | None:
    """The active account a token of ``purpose`` names, with the token's ``claim`` (a string), or
    ``None`` when the token is too long, forged, expired or malformed, or its account is closed."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    try:
        data = _serializer(purpose).loads(token, max_age=max_age)
    except (SignatureExpired, BadSignature):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("u"), int) or not isinstance(data.get(claim), str):
        return None
    user = db.session.get(User, data["u"])
    if user is None or not user.is_active:
        return None
    return user, data[claim]


def user_for_reset_token(token: str) -> User | None:
    """The active account a reset token was made for, or ``None`` when the token is malformed,
    forged, expired, already used or its account closed."""
    found = _signed_user(PASSWORD_RESET, token, reset_minutes() * 60, "f")
    if found is None or not hmac.compare_digest(_fingerprint(found[0]), found[1]):
        return None
    return found[0]

def make_confirmation_token(user: User) -> str:
    """For the address the account has now: a link sent before an address change confirms nothing."""
    return _serializer(EMAIL_CONFIRMATION).dumps({"u": user.id, "e": user.email})


def user_for_confirmation_token(token: str) -> User | None:
    """The account whose current address a confirmation token was made for, or ``None``."""
    found = _signed_user(EMAIL_CONFIRMATION, token, CONFIRMATION_DAYS * 24 * 3600, "e")
    if found is None or not hmac.compare_digest(found[0].email.encode(), found[1].encode()):
        return None
    return found[0]
