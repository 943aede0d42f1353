"""Sign-in sessions (Flask-Login) and the access decorators every view declares.

A session stores ``"<user id>:<session version>"``.  Signing out and changing the password raise
the account's version, so every other session and remember-me cookie of that account stops working
on its next request.
"""
from __future__ import annotations

from functools import wraps
from typing import Callable

from flask import Flask, abort, current_app, session
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from pbvote.auth.models import Role, User
from pbvote.extensions import db, login_manager

#: Access levels a view can declare; the route × role test reads them from ``view.pbvote_access``.
PUBLIC = "public"
SIGNED_IN = "signed_in"


#: Session key marking a shared device as a voting kiosk (the cycle's slug); it outlives every
#: voter's session on that device, and nothing else does.
KIOSK_KEY = "kiosk"


def reset_browser_session() -> None:
    """Forget everything this browser session holds (an access code, receipts, a signed-in account)
    except whether the device is a kiosk: the next person at a shared device (a library PC, a kiosk)
    finds nothing of the previous one.  Called on sign-out, on sign-in (a code held anonymously is
    dropped) and on a kiosk's "next voter"."""
    kiosk = session.get(KIOSK_KEY)
    session.clear()
    if kiosk is not None:
        session[KIOSK_KEY] = kiosk


def init_login(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "auth.sign_in"
    login_manager.login_message = _l("Please sign in to continue.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    try:
        user_id, version = (int(part) for part in session_id.split(":", 1))
    except (TypeError, ValueError):
        return None
    user = db.session.get(User, user_id)
    if user is None or user.session_version != version or not user.is_active:
        return None
    return user


def _mark(view: Callable, access) -> Callable:
    view.pbvote_access = access
    return view


def public(view: Callable) -> Callable:
    """Declare a view open to everyone, signed in or not."""
    return _mark(view, PUBLIC)


def login_required(view: Callable) -> Callable:
    """Any signed-in account; anonymous visitors are sent to sign in."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated:
            return current_app.login_manager.unauthorized()
        return view(*args, **kwargs)

    return _mark(wrapped, SIGNED_IN)


def role_required(*roles: Role | str) -> Callable[[Callable], Callable]:
    """Only accounts holding one of ``roles``: anonymous visitors sign in first, others get 403."""
    wanted = frozenset(Role(role) for role in roles)

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return current_app.login_manager.unauthorized()
            if not current_user.has_role(*wanted):
                abort(403)
            return view(*args, **kwargs)

        return _mark(wrapped, wanted)

    return decorator
