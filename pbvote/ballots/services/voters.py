"""Who is casting: a signed-in account or an access code on its own, and what follows from it
(the row lock a cast takes, the order in which the ballot shows the projects to them)."""
from __future__ import annotations

import random
from dataclasses import dataclass

import sqlalchemy as sa

from pbvote.auth.models import User
from pbvote.ballots.models import AccessCode, Participation
from pbvote.ballots.services.keys import _keyed_hash
from pbvote.cycles.models import Budget
from pbvote.extensions import db
from pbvote.proposals.models import Proposal

@dataclass(frozen=True)
class Voter:
    """Who is casting: a signed-in account, or an access code used on its own."""

    user: User | None = None
    code: AccessCode | None = None
    #: True when the voter's row lock is already held in this transaction (see :func:`lock_code_voter`).
    locked: bool = False

    @property
    def key(self) -> str:
        return f"u{self.user.id}" if self.user is not None else f"c{self.code.id}"

    @property
    def is_code(self) -> bool:
        return self.user is None


def _voter_filter(voter: Voter):
    if voter.user is not None:
        return Participation.user_id == voter.user.id
    return Participation.access_code_id == voter.code.id


def lock_code_voter(code_id: int) -> Voter | None:
    """The voter holding access code ``code_id``, loaded fresh under the code's row lock.

    One statement instead of a plain load followed by the lock that :func:`cast_ballot` takes.
    """
    code = db.session.scalar(
        sa.select(AccessCode)
        .where(AccessCode.id == code_id)
        .with_for_update(of=AccessCode)
        .execution_options(populate_existing=True)
    )
    return Voter(code=code, locked=True) if code is not None else None


def shuffled_for(proposals: list[Proposal], seed: str, budget: Budget) -> list[Proposal]:
    """The projects in an order that differs between voters but stays the same for one voter."""
    number = int(_keyed_hash("order", f"{seed}:{budget.id}")[:16], 16)
    ordered = sorted(proposals, key=lambda p: p.id)
    random.Random(number).shuffle(ordered)
    return ordered
