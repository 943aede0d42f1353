"""Proposals domain: writing and submitting proposals, co-authors, supports, pledges, discussion and
moderation, feasibility review, and the queries behind the proposal pages.  ``create_app`` wires it
in with :func:`pbvote.proposals.setup.init_app`."""
from __future__ import annotations
