"""Reading proposals: the searchable list, the projects on a budget's ballot, and a cycle's public
overview (its phase timeline with the number of proposals)."""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from pbvote.cycles.models import Budget, Cycle, Phase
from pbvote.cycles.services import TimelineStep, cycle_timeline
from pbvote.extensions import db
from pbvote.proposals.models import PUBLIC_STATUSES, Proposal, ProposalStatus, search_document
from pbvote.timeutil import utcnow


def ballot_proposals(budget: Budget) -> list[Proposal]:
    """The proposals on a budget's ballot: its feasible proposals, ordered by id."""
    return list(db.session.scalars(
        sa.select(Proposal).where(Proposal.budget_id == budget.id, Proposal.status == ProposalStatus.FEASIBLE)
        .order_by(Proposal.id)
    ))


SORTS = ("newest", "supported", "random")
#: A prime above any id we will see; ``id * seed mod P`` is then a per-visitor permutation.
RANDOM_PRIME = 2_147_483_647


def new_random_seed() -> int:
    return secrets.randbelow(RANDOM_PRIME - 2) + 2


@dataclass(frozen=True)
class ProposalQuery:
    text: str = ""
    budget_id: int | None = None
    category_id: int | None = None
    status: ProposalStatus | None = None
    sort: str = "newest"
    seed: int = 1


def search_statement(cycle: Cycle, query: ProposalQuery) -> sa.Select:
    """The SELECT behind the proposal list: public proposals of a cycle, filtered and sorted."""
    statement = sa.select(Proposal).where(Proposal.cycle_id == cycle.id)
    if query.status is not None and query.status in PUBLIC_STATUSES:
        statement = statement.where(Proposal.status == query.status)
    else:
        statement = statement.where(Proposal.status.in_(PUBLIC_STATUSES))
    if query.budget_id:
        statement = statement.where(Proposal.budget_id == query.budget_id)
    if query.category_id:
        statement = statement.where(Proposal.category_id == query.category_id)
    text = query.text.strip()[:200]
    if text:
        if db.session.get_bind().dialect.name == "postgresql":
            statement = statement.where(search_document().op("@@")(sa.func.plainto_tsquery("simple", text)))
        else:
            for word in text.lower().split()[:8]:
                pattern = "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
                statement = statement.where(sa.or_(sa.func.lower(Proposal.title).like(pattern, escape="\\"),
                                                   sa.func.lower(Proposal.body).like(pattern, escape="\\")))
    if query.sort == "supported":
        statement = statement.order_by(Proposal.support_count.desc(), Proposal.id.desc())
    elif query.sort == "random":
        statement = statement.order_by((Proposal.id * sa.literal(query.seed, sa.BigInteger)) % RANDOM_PRIME, Proposal.id)
    else:
        statement = statement.order_by(Proposal.created_at.desc(), Proposal.id.desc())
    return statement


# -- a cycle's public pages ---------------------------------------------------------------------


@dataclass(frozen=True)
class CycleOverview:
    """The key numbers and the phase timeline of a cycle, for the home page and the cycle's page."""

    cycle: Cycle
    current: Phase | None
    timeline: list[TimelineStep]
    proposal_counts: dict[ProposalStatus, int]
    budget_proposals: dict[int, int]

    @property
    def public_proposals(self) -> int:
        return sum(n for status, n in self.proposal_counts.items() if status != ProposalStatus.DRAFT)


def cycle_overview(cycle: Cycle, now: datetime | None = None) -> CycleOverview:
    """The cycle's running phase and timeline (:func:`pbvote.cycles.services.cycle_timeline`) with
    its proposals counted by status, and per budget (drafts left out)."""
    now = now or utcnow()
    counts = dict(
        db.session.execute(
            sa.select(Proposal.status, sa.func.count()).where(Proposal.cycle_id == cycle.id).group_by(Proposal.status)
        ).all()
    )
    per_budget = dict(
        db.session.execute(
            sa.select(Proposal.budget_id, sa.func.count())
            .where(Proposal.cycle_id == cycle.id, Proposal.status != ProposalStatus.DRAFT)
            .group_by(Proposal.budget_id)
        ).all()
    )
    return CycleOverview(cycle, cycle.phase_at(now), cycle_timeline(cycle, now), counts, per_budget)


def most_supported(cycle: Cycle, limit: int = 10) -> list[Proposal]:
    """The cycle's public proposals with the most supports (the first by id among equals)."""
    return list(db.session.scalars(
        sa.select(Proposal)
        .where(Proposal.cycle_id == cycle.id, Proposal.status.in_(PUBLIC_STATUSES))
        .order_by(Proposal.support_count.desc(), Proposal.id)
        .limit(limit)
    ))
