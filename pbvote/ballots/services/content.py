"""What is on a budget's ballot (its projects, kept per frozen budget) and the check of a voter's
choices against the budget's ballot kind."""
from __future__ import annotations

from collections.abc import Iterable, Sequence

import sqlalchemy as sa
from flask import current_app

from pbvote.ballots.choices import BallotProposal, Choice
from pbvote.ballots.kinds import kind_of
from pbvote.cycles.models import Budget
from pbvote.extensions import db
from pbvote.proposals.models import Proposal, ProposalStatus

#: Key of the per-app cache of frozen budgets' ballots in ``app.extensions``.
SNAPSHOT_CACHE = "pbvote.ballot_snapshots"


def ballot_snapshot(budget: Budget, connection: sa.Connection | None = None) -> tuple[BallotProposal, ...]:
    """The projects on ``budget``'s ballot (the same rule as :func:`ballot_proposals`), as snapshots.

    Once a budget is frozen (its first ballot, ``Budget.frozen_at``) its set of feasible projects and
    their costs can no longer change: the review services refuse it under the budget's row lock.  So
    the snapshot of a frozen budget is kept per app and process, keyed by (budget id, frozen_at), and
    read from the database only once.  An unfrozen budget is read on every call and never kept.
    ``connection``: read on it instead of the session's (a request that already holds one).
    """
    frozen_at = budget.frozen_at
    cache = current_app.extensions.setdefault(SNAPSHOT_CACHE, {})
    if frozen_at is not None:
        found = cache.get((budget.id, frozen_at))
        if found is not None:
            return found
    rows = (connection or db.session).execute(
        sa.select(Proposal.id, Proposal.title, sa.func.coalesce(Proposal.final_amount, Proposal.estimated_amount))
        .where(Proposal.budget_id == budget.id, Proposal.status == ProposalStatus.FEASIBLE)
        .order_by(Proposal.id)
    )
    snapshot = tuple(BallotProposal(*row) for row in rows)
    if frozen_at is not None:
        cache[(budget.id, frozen_at)] = snapshot
    return snapshot


def check_choices(budget: Budget, proposals: Sequence[Proposal | BallotProposal], choices: Iterable[Choice]) -> list[Choice]:
    """Check ``choices`` against the frozen rule of ``budget`` (its ballot kind's rules); return them
    normalised (by project).  Raises :class:`InvalidBallot` with a message in plain words."""
    return kind_of(budget).check_choices(budget, proposals, choices)
