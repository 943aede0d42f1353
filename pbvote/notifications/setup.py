"""Wiring the notifications domain into an app (called once by ``create_app``): importing this
module connects the receivers of :mod:`pbvote.notifications.account` to the accounts domain's
signals."""
from __future__ import annotations

from flask import Flask

from pbvote.notifications import account  # noqa: F401  (its receivers connect when it is imported)


def init_app(app: Flask) -> None:
    """Nothing per app: the receivers are connected once, by this module's import."""
