"""Wiring the proposals domain into an app (called once by ``create_app``): importing this module
connects the receivers of :mod:`pbvote.proposals.listeners` to the signals of the domains below."""
from __future__ import annotations

from flask import Flask

from pbvote.proposals import listeners  # noqa: F401  (its receivers connect when it is imported)


def init_app(app: Flask) -> None:
    """Nothing per app: the listeners are connected once, by this module's import."""
