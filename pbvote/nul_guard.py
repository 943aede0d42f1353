"""One guard for the whole app: a request carrying a NUL character (``\\x00``) in its text is refused.

PostgreSQL refuses NUL in ``text`` and ``varchar`` values ("A string literal cannot contain NUL
(0x00) characters"), so a ``%00`` anywhere a value reaches a query — a proposal's title, a comment,
a search box, a slug in the URL, a select's value — used to fail inside the database: a 500 on
PostgreSQL, and on SQLite a string that other tools cut short at the NUL.  No person types a NUL
and no browser form sends one; it comes only from scripts probing the site.

Why a ``before_request`` rather than a WTForms filter: text reaches queries by more ways than
forms — path segments (``/cycles/<slug>``), query strings read without a form (``?q=`` on the
staff lists), values a view reads from ``request.form`` itself — and one check at the edge covers
them all, including routes added later.  A filter on form fields would miss the first two, and
would have to be declared on every field.  The cost is a scan of the request's text (microseconds).

What is checked: the path, the query string (names and values), form fields (names and values) and
the names of uploaded files, and every string of a JSON body.  Uploaded file contents are not text
and are not checked.  The answer is 400 with a message saying what is wrong, as an HTML error page
or a JSON error body (``code: "nul_character"``) by the rules of :func:`pbvote.errors.error_response`.
The guard runs before the CSRF check, so the message is about the NUL rather than the form.
"""
from __future__ import annotations

from flask import Flask, request
from flask_babel import gettext as _

from pbvote.errors import error_response

NUL = "\x00"


def _contains_nul(value) -> bool:
    """True when ``value`` — a string, or lists and dicts of them, as a JSON body parses — holds NUL."""
    if isinstance(value, str):
        return NUL in value
    if isinstance(value, dict):
        return any(_contains_nul(key) or _contains_nul(item) for key, item in value.items())
    if isinstance(value, list):
        return any(_contains_nul(item) for item in value)
    return False


def _pairs_contain_nul(multidict) -> bool:
    return any(NUL in key or NUL in value for key, value in multidict.items(multi=True))


def request_contains_nul() -> bool:
    """Whether the current request carries a NUL character in any of its text."""
    if NUL in request.path:
        return True
    if request.query_string and _pairs_contain_nul(request.args):
        return True
    if not request.content_length and not request.headers.get("Transfer-Encoding"):
        return False  # no body (every GET of a page): nothing more to read
    if request.is_json:
        return _contains_nul(request.get_json(silent=True))
    if _pairs_contain_nul(request.form):
        return True
    return any(NUL in key or NUL in (upload.filename or "") for key, upload in request.files.items(multi=True))


def refuse_nul_characters():
    """``before_request``: answer 400 to a request with a NUL character; nothing else runs."""
    if request_contains_nul():
        return error_response(
            400,
            _("The request contains a NUL character (\\0), which is never allowed in text. "
              "Remove it and try again."),
            "nul_character",
        )
    return None


def register_nul_guard(app: Flask) -> None:
    """Install the guard; register it before the extensions so that it runs first."""
    app.before_request(refuse_nul_characters)
