"""Account use cases: sign up, authenticate, update details, change or reset a password, end
sessions, grant roles.

Like every service module: takes models and plain values, enforces the rules, raises
:mod:`pbvote.errors`, writes the audit log and flushes; the caller commits.
"""
from __future__ import annotations

import functools
from collections.abc import Callable

import sqlalchemy as sa
from flask_babel import gettext as _
from werkzeug.security import check_password_hash, generate_password_hash

from pbvote import audit
from pbvote.auth.models import Role, User
from pbvote.auth.signals import email_confirmation_requested, password_reset_requested
from pbvote.auth.tokens import CONFIRMATION_DAYS, make_confirmation_token, make_reset_token, reset_minutes
from pbvote.errors import Conflict, InvalidInput, NotAllowed
from pbvote.extensions import db
from pbvote.places.models import District
from pbvote.timeutil import utcnow

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 256
#: The earliest year of birth we accept (anything before is a typing mistake).
EARLIEST_BIRTH_YEAR = 1900



def normalize_email(email: str) -> str:
    return (email or "").strip().lower()


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(sa.select(User).where(User.email == normalize_email(email)))


def check_password_rules(password: str, *, email: str = "", field: str = "password") -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            _("Use at least %(n)d characters for your password.", n=MIN_PASSWORD_LENGTH), field=field
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InvalidInput(_("That password is too long."), field=field)
    if email and password.strip().lower() == normalize_email(email):
        raise InvalidInput(_("Your password must not be your e-mail address."), field=field)


def check_display_name(display_name: str | None) -> str:
    display_name = (display_name or "").strip()
    if not display_name:
        raise InvalidInput(_("Enter the name other residents will see."), field="display_name")
    return display_name


def check_birth_year(birth_year: int | None) -> None:
    """A year of birth is optional; when given it must be a plausible past year."""
    if birth_year is not None and not EARLIEST_BIRTH_YEAR <= birth_year <= utcnow().year:
        raise InvalidInput(
            _("Enter a year between %(first)d and %(last)d, or leave it empty.", first=EARLIEST_BIRTH_YEAR, last=utcnow().year),
            field="birth_year",
        )


def create_user(
    *,
    email: str,
    display_name: str,
    password: str,
    role: Role = Role.RESIDENT,
    home_district: District | None = None,
    birth_year: int | None = None,
    actor: User | None = None,
    email_confirmed: bool = False,
    locale: str | None = None,
) -> User:
    """Create an account (``locale``: the language the person chose, if any).  Raises
    :class:`Conflict` if the e-mail address is taken.

    ``email_confirmed``: the address is known to be the person's (an administrator creating the
    account); otherwise the caller sends a confirmation link (:func:`request_email_confirmation`)."""
    email = normalize_email(email)
    display_name = check_display_name(display_name)
    if "@" not in email or len(email) > 254:
        raise InvalidInput(_("Enter a valid e-mail address."), field="email")
    check_birth_year(birth_year)
    check_password_rules(password, email=email)
    if find_user_by_email(email) is not None:
        raise Conflict(_("An account with this e-mail address already exists."), field="email")
    user = User(email=email, display_name=display_name, role=Role(role), home_district=home_district, birth_year=birth_year,
                email_confirmed_at=utcnow() if email_confirmed else None, locale=locale)
    user.set_password(password)
    db.session.add(user)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except sa.exc.IntegrityError:
        # Another request registered the same address between our check and our insert.
        raise Conflict(_("An account with this e-mail address already exists."), field="email") from None
    audit.record("user.created", actor=actor or user, subject=user, role=user.role.value)
    return user


def authenticate(email: str, password: str) -> User | None:
    """The active account with this e-mail and password, or None (same time either way)."""
    user = find_user_by_email(email)
    if user is None:
        # Hash anyway, so a wrong e-mail address takes as long as a wrong password (no account
        # enumeration by timing).
        check_password_hash(_dummy_hash(), password)
        return None
    if not user.check_password(password) or not user.is_active:
        audit.record("user.sign_in_failed", subject=user)
        return None
    user.last_sign_in_at = utcnow()
    audit.record("user.signed_in", actor=user, subject=user)
    return user


@functools.cache
def _dummy_hash() -> str:
    return generate_password_hash("not-a-real-password", method="scrypt")


def end_sessions(user: User) -> None:
    """End every session of ``user`` (sign-out everywhere)."""
    user.session_version = (user.session_version or 1) + 1
    audit.record("user.signed_out", actor=user, subject=user)
    db.session.flush()


def update_details(user: User, *, display_name: str, birth_year: int | None) -> None:
    """A resident's own details: the name others see and the (self-declared) year of birth."""
    display_name = check_display_name(display_name)
    check_birth_year(birth_year)
    changed = sorted(
        name for name, old, new in (("display_name", user.display_name, display_name), ("birth_year", user.birth_year, birth_year))
        if old != new
    )
    user.display_name, user.birth_year = display_name, birth_year
    if changed:
        audit.record("user.details_changed", actor=user, subject=user, fields=changed)
    db.session.flush()


def change_password(user: User, current_password: str, new_password: str) -> None:
    """Change the password after checking the current one; ends the account's other sessions."""
    if not user.check_password(current_password):
        raise InvalidInput(_("Your current password is not correct."), field="current_password")
    if current_password == new_password:
        raise InvalidInput(_("Choose a password different from the current one."), field="new_password")
    check_password_rules(new_password, email=user.email, field="new_password")
    user.set_password(new_password)
    user.session_version = (user.session_version or 1) + 1
    audit.record("user.password_changed", actor=user, subject=user)
    db.session.flush()


def request_email_confirmation(user: User, link_for: Callable[[str], str]) -> bool:
    """Send ``user`` a link to confirm their address (valid for days, for the address they have now).
    Returns ``False`` when there is nothing to confirm."""
    if user.email_confirmed or not user.is_active:
        return False
    email_confirmation_requested.send(user, link=link_for(make_confirmation_token(user)), valid_days=CONFIRMATION_DAYS)
    audit.record("user.email_confirmation_sent", actor=user, subject=user)
    db.session.flush()
    return True


def confirm_email(user: User) -> bool:
    """Mark ``user``'s address confirmed (the link's token was checked by the caller).  Returns
    whether it changed (opening the link twice is fine)."""
    if user.email_confirmed:
        return False
    user.email_confirmed_at = utcnow()
    audit.record("user.email_confirmed", actor=user, subject=user)
    db.session.flush()
    return True


def request_password_reset(email: str, link_for: Callable[[str], str]) -> bool:
    """Send a password-reset link to the active account with ``email``, if there is one.

    ``link_for(token)`` is the path of the reset page for a token.  The e-mail itself is written by
    the notifications domain, listening to :data:`pbvote.auth.signals.password_reset_requested`, in
    this transaction.  Returns whether a link was sent; the page must answer the same either way
    (no account enumeration)."""
    user = find_user_by_email(email)
    if user is None or not user.is_active:
        return False
    password_reset_requested.send(user, link=link_for(make_reset_token(user)), valid_minutes=reset_minutes())
    audit.record("user.password_reset_requested", actor=user, subject=user)
    db.session.flush()
    return True


def reset_password(user: User, new_password: str) -> None:
    """Set a new password from a reset link (the token was checked by the caller): the link and
    every other link sent before stop working, and every session of the account ends."""
    check_password_rules(new_password, email=user.email, field="password")
    user.set_password(new_password)
    user.session_version = (user.session_version or 1) + 1
    if not user.email_confirmed:  # the link came to this address: it is theirs
        user.email_confirmed_at = utcnow()
    audit.record("user.password_reset", actor=user, subject=user)
    db.session.flush()


def set_language(user: User, code: str, offered: tuple[str, ...] | list[str]) -> None:
    """Save the language ``user`` reads the site and their e-mails in (one of ``offered``)."""
    if code not in offered:
        raise InvalidInput(_("Choose one of the languages offered."), field="language")
    if user.locale != code:
        user.locale = code
        audit.record("user.language_changed", actor=user, subject=user, language=code)
        db.session.flush()


def grant_role(actor: User, user: User, role: Role | str) -> None:
    """Give ``user`` the role ``role``.  Only admins grant roles; the last admin stays an admin."""
    role = Role(role)
    if not actor.has_role(Role.ADMIN):
        raise NotAllowed(_("Only administrators can change roles."))
    if user.role == role:
        return
    if user.role == Role.ADMIN and role != Role.ADMIN:
        admins = db.session.scalar(sa.select(sa.func.count()).select_from(User).where(User.role == Role.ADMIN))
        if admins <= 1:
            raise Conflict(_("The last administrator cannot give up the role. Make someone else an administrator first."))
    previous = user.role
    # Takes effect on the user's next request everywhere: roles are read from the database each time.
    user.role = role
    audit.record("user.role_changed", actor=actor, subject=user, before=previous.value, after=role.value)
    db.session.flush()


def verify_resident(actor: User, user: User, district_id: int | None) -> User:
    """Staff confirm that ``user`` lives in district ``district_id`` (after checking a document, for
    example)."""
    user.home_district_id = district_id
    user.verified_at = utcnow()
    audit.record("user.verified", actor=actor, subject=user, district_id=user.home_district_id)
    db.session.flush()
    return user
