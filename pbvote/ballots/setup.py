"""Wiring the ballots domain into an app (called once by ``create_app``).

A module of its own, imported only by the composition root: importing it loads the ballot stores,
the listeners and the notices, which the bare ``pbvote.ballots`` package (imported whenever a model
is) must not.
"""
from __future__ import annotations

from flask import Flask

from pbvote.ballots import listeners  # noqa: F401  (its receivers connect when it is imported)
from pbvote.ballots import notices  # noqa: F401  (registers voters and the voting-opened announcement)
from pbvote.ballots.paper.services import register  # noqa: F401  (lists casts refused after a session's register)
from pbvote.ballots.services.casting import STORE_KEY
from pbvote.ballots.services.stores import store_for


def init_app(app: Flask, dialect_name: str) -> None:
    """Choose the app's ballot store once, for its database (:mod:`pbvote.ballots.services.stores`);
    the listeners (:mod:`pbvote.ballots.listeners`) and notices (:mod:`pbvote.ballots.notices`)
    are connected by this module's import."""
    app.extensions[STORE_KEY] = store_for(dialect_name)
