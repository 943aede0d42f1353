"""Languages: which one a request is answered in, what each language is called, and the language of
an e-mail to a given person.

The order of choice (:func:`select_locale`): the language saved on the signed-in account, then the
one kept in the ``pbvote_language`` cookie (a visitor's choice in the header's language switcher),
then the browser's ``Accept-Language``, then ``BABEL_DEFAULT_LOCALE``.  Only the languages of
``PBVOTE_LANGUAGES`` are ever chosen.  The catalogues live in ``pbvote/translations`` (see
docs/translating.md and :mod:`pbvote.i18n_catalog`).
"""
from __future__ import annotations

from functools import lru_cache

from babel import Locale
from flask import Response, current_app, has_request_context, request
from flask_login import current_user

#: The cookie that keeps the language a visitor chose (one year; not needed to use the site).
LANGUAGE_COOKIE = "pbvote_language"
LANGUAGE_COOKIE_AGE = 60 * 60 * 24 * 365


def offered_languages() -> tuple[str, ...]:
    """The languages this site offers (``PBVOTE_LANGUAGES``), the default one first if absent."""
    config = current_app.config
    languages = tuple(config["PBVOTE_LANGUAGES"])
    default = config["BABEL_DEFAULT_LOCALE"]
    return languages if default in languages else (default, *languages)


def offered(code: str | None) -> str | None:
    """``code`` if it is one of the offered languages, else None."""
    return code if code and code in offered_languages() else None


@lru_cache(maxsize=64)
def language_name(code: str) -> str:
    """A language named in itself, as a switcher shows it: "English", "Polski", "Deutsch"."""
    try:
        name = Locale.parse(code).get_display_name(code) or code
    except (ValueError, LookupError):
        return code
    return name[:1].upper() + name[1:]


def language_choices() -> list[tuple[str, str]]:
    """(code, name in itself) for each offered language, in the configured order."""
    return [(code, language_name(code)) for code in offered_languages()]


def explicit_choice() -> str | None:
    """The language the visitor chose: saved on their account, else kept in the cookie."""
    if current_user and current_user.is_authenticated:
        saved = offered(getattr(current_user, "locale", None))
        if saved:
            return saved
    return offered(request.cookies.get(LANGUAGE_COOKIE))


def select_locale() -> str:
    """The language of this request (Flask-Babel's locale selector; see the module's docstring)."""
    default = current_app.config["BABEL_DEFAULT_LOCALE"]
    if not has_request_context():
        return default
    return explicit_choice() or request.accept_languages.best_match(offered_languages()) or default


def recipient_locale(user) -> str:
    """The language to write to ``user`` in (an e-mail): the one saved on their account, else the
    site's default language (no browser to ask)."""
    return offered(getattr(user, "locale", None)) or current_app.config["BABEL_DEFAULT_LOCALE"]


def remember_language(response: Response, code: str) -> Response:
    """Keep ``code`` in the visitor's language cookie."""
    config = current_app.config
    response.set_cookie(
        LANGUAGE_COOKIE, code, max_age=LANGUAGE_COOKIE_AGE, httponly=True, samesite="Lax",
        secure=bool(config.get("SESSION_COOKIE_SECURE")), path=config.get("APPLICATION_ROOT") or "/",
    )
    return response


def language_target() -> str | None:
    """Where the language switcher sends the visitor back to: the page they are on (a GET)."""
    if request.method != "GET":
        return None
    return request.path
