"""Ballots domain: casting (one entry point), access codes, eligibility, receipts, sealing, the
ballot kinds (:mod:`pbvote.ballots.kinds`) and paper ballots at community sessions
(:mod:`pbvote.ballots.paper`)."""
from __future__ import annotations

from flask import Flask


def init_app(app: Flask, dialect_name: str) -> None:
    """Choose the app's ballot store once, for its database (:mod:`pbvote.ballots.services.stores`),
    listen to the domains below (:mod:`pbvote.ballots.listeners`, connected on first import) and
    connect what ballots tell through notifications (:mod:`pbvote.ballots.notices`)."""
    from pbvote.ballots import listeners  # noqa: F401  (its receivers connect when it is imported)
    from pbvote.ballots import notices  # noqa: F401  (registers voters and the voting-opened announcement)
    from pbvote.ballots.paper.services import register  # noqa: F401  (lists casts refused after a session's register)
    from pbvote.ballots.services.casting import STORE_KEY
    from pbvote.ballots.services.stores import store_for

    app.extensions[STORE_KEY] = store_for(dialect_name)
