"""Domain errors raised by services, and the HTML/JSON error handlers.

Services raise a :class:`DomainError` subclass with a message written for the person who caused it;
views turn it into a form error or let the handler below render it.  Every error page exists both as
HTML and, for ``/api/`` paths or clients that prefer ``application/json``, as a JSON body
``{"error": {"status": 409, "code": "phase_closed", "message": "..."}}``.
"""
from __future__ import annotations

import logging

from flask import Flask, jsonify, make_response, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)


class DomainError(Exception):
    """A business rule refused the request.  ``status`` is the HTTP status views should answer."""

    status = 409
    code = "conflict"

    def __init__(self, message: str | None = None, *, field: str | None = None):
        self.message = str(message) if message is not None else str(self.default_message())
        self.field = field
        super().__init__(self.message)

    def default_message(self):
        return _l("This request conflicts with the current state.")


class InvalidInput(DomainError):
    status = 400
    code = "invalid_input"

    def default_message(self):
        return _l("The request contains invalid data.")


class NotAllowed(DomainError):
    status = 403
    code = "not_allowed"

    def default_message(self):
        return _l("You are not allowed to do this.")


class NotFound(DomainError):
    status = 404
    code = "not_found"

    def default_message(self):
        return _l("Not found.")


class Conflict(DomainError):
    status = 409
    code = "conflict"


class PhaseClosed(DomainError):
    status = 409
    code = "phase_closed"

    def default_message(self):
        return _l("This is not possible in the cycle's current phase.")


class RulesFrozen(DomainError):
    status = 409
    code = "rules_frozen"

    def default_message(self):
        return _l("Voting has started: the ballot rules, budgets and tally rule can no longer change.")


#: Why a ballot breaks the rules (``InvalidBallot.reason``): over the budget (money, or a points
#: ballot's points), too many or too few projects, or another rule (a project marked twice, ranks
#: with gaps, too many points on one project, a minimum spend not reached).
BALLOT_REASONS = ("over_budget", "too_many", "too_few", "rule")


class InvalidBallot(DomainError):
    """A ballot breaks a rule of the vote.  ``reason`` names the kind of rule, for paper sheets that
    are recorded as invalid (:mod:`pbvote.ballots.paper`): one of :data:`BALLOT_REASONS`."""

    status = 400
    code = "invalid_ballot"

    def __init__(self, message: str | None = None, *, field: str | None = None, reason: str = "rule"):
        super().__init__(message, field=field)
        self.reason = reason

    def default_message(self):
        return _l("This ballot does not follow the rules of the vote.")


#: Titles and explanations of error pages, by HTTP status.
ERROR_TEXTS = {
    400: (_l("Bad request"), _l("The request could not be understood. Please check what you entered and try again.")),
    401: (_l("Sign in required"), _l("Please sign in to continue.")),
    403: (_l("Not allowed"), _l("Your account does not have access to this page.")),
    404: (_l("Page not found"), _l("We could not find that page. It may have moved or been removed.")),
    405: (_l("Method not allowed"), _l("This address does not accept that kind of request.")),
    409: (_l("Conflict"), _l("This could not be done in the current state. Reload the page and try again.")),
    413: (_l("Too large"), _l("The upload is larger than allowed.")),
    429: (_l("Too many attempts"), _l("You have tried this too often in a short time. Please wait a few minutes and try again.")),
    503: (_l("Try again"), _l("The service could not complete this just now. Please try again in a moment.")),
    500: (_l("Something went wrong"), _l("An unexpected error occurred on our side. It has been logged; please try again later.")),
}


def wants_json() -> bool:
    """True for API paths and for clients that prefer JSON over HTML."""
    if request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json" and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]


def error_response(status: int, message: str | None = None, code: str | None = None, field: str | None = None):
    title, explanation = ERROR_TEXTS.get(status, ERROR_TEXTS[500 if status >= 500 else 400])
    message = str(message) if message else str(explanation)
    if wants_json():
        body = {"status": status, "code": code or str(title).lower().replace(" ", "_"), "message": message}
        if field:
            body["field"] = field
        return jsonify(error=body), status
    try:
        return render_template("errors/error.html", status=status, title=title, message=message), status
    except Exception:  # the error page itself failed: answer in plain text rather than not at all
        log.exception("rendering the error page failed")
        return f"{status} {title}\n\n{message}\n", status, {"Content-Type": "text/plain; charset=utf-8"}


def _retry_after_seconds() -> int | None:
    """Seconds until the breached rate limit lets the next request through (one storage look-up,
    made only for a 429: the limiter's headers on every response are switched off)."""
    import time

    from pbvote.extensions import limiter

    try:
        limit = limiter.current_limit
        return None if limit is None else max(1, int(limit.reset_at - time.time()) + 1)
    except Exception:  # the storage is unreachable: the 429 stands without the header
        log.warning("could not compute Retry-After", exc_info=True)
        return None


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def handle_domain_error(error: DomainError):
        return error_response(error.status, error.message, error.code, error.field)

    @app.errorhandler(CSRFError)
    def handle_csrf_error(error: CSRFError):
        return error_response(
            400,
            _("The form has expired or was sent from another site. Reload the page and try again."),
            "csrf_failed",
        )

    @app.errorhandler(HTTPException)
    def handle_http_error(error: HTTPException):
        status = error.code or 500
        message = None
        if status == 429:
            message = _(
                "Too many attempts in a short time (limit: %(limit)s). Please wait a few minutes and try again.",
                limit=getattr(error, "description", "") or "",
            )
        elif status not in ERROR_TEXTS and error.description:
            message = error.description
        response = make_response(error_response(status, message))
        if status == 429:
            retry_after = getattr(error, "retry_after", None) or _retry_after_seconds()
            if retry_after is not None:
                response.headers["Retry-After"] = str(retry_after)
        if status == 405 and hasattr(error, "valid_methods") and error.valid_methods:
            response.headers["Allow"] = ", ".join(error.valid_methods)
        return response

    @app.errorhandler(Exception)
    def handle_unexpected(error: Exception):
        if isinstance(error, HTTPException):  # pragma: no cover - handled above
            return handle_http_error(error)
        log.exception("Unhandled error on %s %s", request.method, request.path)
        from pbvote.extensions import db

        try:
            db.session.rollback()
        except Exception:  # pragma: no cover - best effort
            log.exception("rollback after error failed")
        return error_response(500)
