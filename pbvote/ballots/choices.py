"""What a ballot holds, as plain values: the projects on it and the voter's choices.

Below everything else in :mod:`pbvote.ballots` (the kinds, casting, receipts and the paper entry
all speak in these terms), and free of the database: a :class:`Choice` is what a form, a paper
sheet or a test produces, before anything is stored.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Choice:
    """One project marked on a ballot: ticked, or given ``points``, or ranked ``rank``."""

    proposal_id: int
    points: int | None = None
    rank: int | None = None


@dataclass(frozen=True)
class BallotProposal:
    """A project as the ballot checks and shows it: an immutable snapshot of id, title and cost."""

    id: int
    title: str
    ballot_amount: int


class OnBallot(Protocol):
    """A project on a ballot: a :class:`~pbvote.proposals.models.Proposal` or a :class:`BallotProposal`."""

    id: int
    title: str
    ballot_amount: int


def spent_amount(proposals: Iterable[OnBallot], choices: Iterable[Choice]) -> int:
    """What the chosen projects cost together, in the currency's smallest unit."""
    costs = {p.id: p.ballot_amount for p in proposals}
    return sum(costs.get(choice.proposal_id, 0) for choice in choices)
