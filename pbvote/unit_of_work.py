"""One unit of work per request: the request commits once, after the view, or not at all.

Views load, check, call one service and return; they never call ``commit()`` or ``rollback()``
(Indico's way).  After the view:

* a response below 400 (a page, a redirect) commits the session's transaction, then runs the side
  effects registered with :func:`after_commit` (writing or deleting files, waking the mail worker);
* a response of 400 or more (a form error, a refused request, an error page) rolls back and drops
  them, unless the view kept its changes on purpose with :func:`keep_changes` (the audit entry of a
  failed sign-in);
* a view that shows a service's refusal on the page it redirects to calls :func:`discard`;
* a commit the database refuses (a unique constraint, a serialisation failure, a lost
  connection) is rolled back, logged, and answered with an error page instead of the view's
  response: the person is never told "done" about something that was not stored.

Services raise :class:`pbvote.errors.DomainError`; a view that shows it on a form answers 400 and is
rolled back here, one that lets it escape gets the error page from :mod:`pbvote.errors` (4xx), also
rolled back.  The CLI and tests commit themselves: this runs only around requests the app
dispatches (not in a bare ``app.test_request_context()``, where nothing would finish it).
"""
from __future__ import annotations

import logging
from collections.abc import Callable

import sqlalchemy as sa
from flask import Flask, Response, g

from pbvote.extensions import db

log = logging.getLogger(__name__)

_CALLBACKS = "pbvote_after_commit"
_KEEP = "pbvote_keep_changes"
_OPEN = "pbvote_unit_of_work"


def after_commit(callback: Callable[[], object]) -> None:
    """Run ``callback`` once this request's changes are committed; never if they are rolled back.

    For side effects that must not happen for a change that was not stored (deleting an image file
    of a proposal whose deletion is committed, sending an e-mail).  Outside a request the app
    dispatches (CLI, tests, a bare ``test_request_context``) the caller commits, so the callback
    runs at once."""
    from flask import has_request_context

    if not (has_request_context() and g.get(_OPEN)):
        callback()
        return
    g.setdefault(_CALLBACKS, []).append(callback)


def keep_changes() -> None:
    """Commit this request's changes even though the response is an error (a failed sign-in
    answers 401 and keeps its audit entry)."""
    g.setdefault(_KEEP, True)


def discard() -> None:
    """Roll this request's changes back even though the response is a success (a view that shows a
    service's refusal as a message on the page it redirects to)."""
    g.setdefault(_KEEP, False)
    g.pbvote_discard = True


def begin() -> None:
    """Mark the request as one this unit of work finishes (before the view runs)."""
    setattr(g, _OPEN, True)


def finish(response: Response) -> Response:
    """Commit or roll back the request's session according to ``response`` (see the module)."""
    callbacks = g.pop(_CALLBACKS, [])
    keep = g.pop(_KEEP, False)
    session = db.session()  # this request's session (the scoped_session proxy has no in_transaction)
    if g.pop("pbvote_discard", False) or (response.status_code >= 400 and not keep):
        if session.in_transaction():
            session.rollback()
        return response
    if session.in_transaction():
        try:
            session.commit()
        except sa.exc.SQLAlchemyError as error:
            session.rollback()
            return _refused(error)
    for callback in callbacks:
        try:
            callback()
        except Exception:  # the change is stored: a failed side effect is logged, not undone
            log.exception("after-commit action %r failed", callback)
    return response


def _refused(error: sa.exc.SQLAlchemyError) -> Response:
    from flask import make_response
    from flask_babel import gettext as _

    from pbvote.errors import error_response

    if isinstance(error, sa.exc.IntegrityError):
        log.warning("commit refused by a constraint: %s", error.orig)
        return make_response(error_response(
            409, _("Someone else changed the same thing at the same moment. Reload the page and try again.")))
    log.exception("commit failed")
    return make_response(error_response(503, _("The database could not store your change. Please try again.")))


def init_app(app: Flask) -> None:
    app.before_request(begin)
    app.after_request(finish)
