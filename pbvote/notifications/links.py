"""Links in notifications: stored as paths of this site, made absolute for e-mails.

A notification may be written outside any request (the mail worker announcing that voting opened),
where Flask's ``url_for`` cannot build URLs without ``SERVER_NAME``.  So links are built from the
URL map alone (:func:`link_to`: a path such as ``/proposals/12#comment-40``), kept without the
script root, and completed where they are shown: in a page with the request's script root
(:func:`in_app_url`), in an e-mail with ``PBVOTE_BASE_URL`` (:func:`absolute_url`).
"""
from __future__ import annotations

import logging

from flask import current_app, has_request_context, request

log = logging.getLogger(__name__)

_WARNED = "pbvote.notifications.base_url_warned"


def link_to(endpoint: str, _anchor: str | None = None, **values) -> str:
    """The path of ``endpoint`` with ``values`` (``/proposals/12``), in or outside a request."""
    path = current_app.url_map.bind("localhost").build(endpoint, values)
    return f"{path}#{_anchor}" if _anchor else path


def in_app_url(path: str) -> str:
    """A stored path as a link on a page (under the script root when pbvote is served below one)."""
    return (request.script_root if has_request_context() else "") + path


def absolute_url(path: str) -> str:
    """A stored path as a full address for an e-mail: ``PBVOTE_BASE_URL`` + path.

    Without ``PBVOTE_BASE_URL`` the path is returned as it is (the e-mail's links are then
    relative, which few mail programs follow) and the log says so, once per app.
    """
    base = (current_app.config.get("PBVOTE_BASE_URL") or "").strip()
    if base:
        return base.rstrip("/") + path
    if not current_app.extensions.get(_WARNED):
        current_app.extensions[_WARNED] = True
        log.warning(
            "PBVOTE_BASE_URL is not set: links in e-mails are relative (such as /%s/…). Set it to the site's "
            "address as people reach it, e.g. https://budget.example.org",
            path.lstrip("/").split("/", 1)[0],  # never the whole path: it may hold a reset token
        )
    return path
