"""The app as a WSGI server runs it: ``granian --interface wsgi --factory pbvote.wsgi:create_app``
(``pbvote up`` serves this too).

:func:`pbvote.create_app` has no side effects, so it leaves logging alone; a server's worker process
still wants pbvote's log records at ``PBVOTE_LOG_LEVEL`` on standard error.  This factory sets that
up (:func:`pbvote.config.configure_logging`), then builds the app.
"""
from __future__ import annotations

from flask import Flask

from pbvote import create_app as build_app
from pbvote.config import configure_logging


def create_app() -> Flask:
    """Set up logging from ``PBVOTE_LOG_LEVEL``, then build the app from the environment."""
    configure_logging()
    return build_app()
