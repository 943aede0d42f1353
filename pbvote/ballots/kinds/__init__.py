"""The ballot kinds: one module per ballot type, each a :class:`~pbvote.ballots.kinds.base.BallotKind`.

Adding a ballot type: a member of :class:`pbvote.cycles.models.BallotType` (and its migration), a
module here with its kind, one line below, and its widget template under
``templates/ballots/kinds/``.  Importing this package registers every kind with
:mod:`pbvote.cycles.ballot_kinds`, where the cycles domain (below ballots) finds them.
"""
from __future__ import annotations

from pbvote.ballots.kinds.approval import Approval
from pbvote.ballots.kinds.base import BallotKind
from pbvote.ballots.kinds.choose_one import ChooseOne
from pbvote.ballots.kinds.knapsack import Knapsack
from pbvote.ballots.kinds.points import Points
from pbvote.ballots.kinds.ranking import Ranking
from pbvote.cycles import ballot_kinds
from pbvote.cycles.models import BallotType

KINDS: dict[BallotType, BallotKind] = {
    kind.type: ballot_kinds.register(kind)
    for kind in (Approval(), Knapsack(), Points(), Ranking(), ChooseOne())
}


def kind_of(budget) -> BallotKind:
    """The kind of ``budget``'s ballot (a :class:`~pbvote.cycles.models.Budget` or a snapshot)."""
    return KINDS[budget.ballot_type]


def kind_named(ballot_type: BallotType | str) -> BallotKind:
    return KINDS[BallotType(ballot_type)]


__all__ = ["BallotKind", "KINDS", "kind_of", "kind_named"]
