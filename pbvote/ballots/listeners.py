"""What the ballots domain does when a domain below it says something happened (blinker signals,
connected once, when this module is first imported: :func:`pbvote.ballots.setup.init_app` imports it,
and ``create_app`` calls that for every app; a receiver works on whichever app is current).

* :data:`pbvote.cycles.signals.voting_closed` — staff ended a cycle's voting phase early: the
  cycle's ballots are unlinked from their voters at once, in the same transaction
  (:func:`pbvote.ballots.services.sealing.seal_voter_links`).  Phases that simply end by date are
  sealed by ``pbvote seal-ballots`` (:func:`~pbvote.ballots.services.sealing.seal_closed_cycles`).
"""
from __future__ import annotations

from datetime import datetime

from pbvote.ballots.services.sealing import seal_voter_links
from pbvote.cycles.models import Cycle
from pbvote.cycles.signals import voting_closed


@voting_closed.connect
def seal_when_voting_closes(cycle: Cycle, *, now: datetime, **_extra) -> None:
    """Voting is over: re-voting no longer needs the voter-ballot link, so it goes now."""
    seal_voter_links(cycle, now)
