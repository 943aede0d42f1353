"""Ballots domain: casting (one entry point), access codes, eligibility, receipts, sealing, the
ballot kinds (:mod:`pbvote.ballots.kinds`) and paper ballots at community sessions
(:mod:`pbvote.ballots.paper`).  ``create_app`` wires it in with :func:`pbvote.ballots.setup.init_app`."""
from __future__ import annotations
