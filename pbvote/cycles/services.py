"""Budget-cycle use cases.  (Configuration services arrive with the cycles issue.)"""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from pbvote.cycles.models import PHASE_ORDER, Cycle, Phase, PhaseKind
from pbvote.extensions import db
from pbvote.proposals.models import Proposal, ProposalStatus
from pbvote.timeutil import utcnow


def list_public_cycles() -> list[Cycle]:
    """Published cycles, the most recent first."""
    return list(
        db.session.scalars(sa.select(Cycle).where(Cycle.is_published.is_(True)).order_by(Cycle.created_at.desc(), Cycle.id.desc()))
    )


def get_public_cycle(slug: str) -> Cycle | None:
    return db.session.scalar(sa.select(Cycle).where(Cycle.slug == slug, Cycle.is_published.is_(True)))


@dataclass(frozen=True)
class TimelineStep:
    kind: PhaseKind
    phase: Phase | None
    state: str  # "done", "current", "upcoming" or "skipped"


@dataclass(frozen=True)
class CycleOverview:
    cycle: Cycle
    current: Phase | None
    timeline: list[TimelineStep]
    proposal_counts: dict[ProposalStatus, int]
    budget_proposals: dict[int, int]

    @property
    def public_proposals(self) -> int:
        return sum(n for status, n in self.proposal_counts.items() if status != ProposalStatus.DRAFT)


def cycle_overview(cycle: Cycle) -> CycleOverview:
    """The key numbers and the phase timeline of a cycle, for its public page."""
    now = utcnow()
    current = cycle.phase_at(now)
    timeline = []
    for kind in PHASE_ORDER:
        phase = cycle.phase(kind)
        if phase is None:
            state = "skipped"
        elif phase.ends_at <= now:
            state = "done"
        elif phase.starts_at <= now:
            state = "current"
        else:
            state = "upcoming"
        timeline.append(TimelineStep(kind, phase, state))
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
    return CycleOverview(cycle, current, timeline, counts, per_budget)
