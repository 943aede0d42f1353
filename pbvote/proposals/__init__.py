"""Proposals domain: writing and submitting proposals, co-authors, supports, pledges, discussion and
moderation, feasibility review, and the queries behind the proposal pages."""
from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Listen to the domains below (:mod:`pbvote.proposals.listeners`, connected on first import)."""
    from pbvote.proposals import listeners  # noqa: F401  (its receivers connect when it is imported)
