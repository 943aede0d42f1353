"""Reading proposals: the searchable list, the projects on a budget's ballot, and a cycle's public
overview (its phase timeline with the number of proposals)."""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import TSQUERY

from pbvote.cycles.models import Budget, Cycle, Phase
from pbvote.cycles.services import TimelineStep, cycle_timeline
from pbvote.extensions import db
from pbvote.proposals import search
from pbvote.proposals.models import PUBLIC_STATUSES, Proposal, ProposalStatus, search_document, title_document
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
        statement, relevance = _matching(statement, search.query_words(text))
        if relevance is not None:
            statement = statement.order_by(relevance)
    if query.sort == "supported":
        statement = statement.order_by(Proposal.support_count.desc(), Proposal.id.desc())
    elif query.sort == "random":
        statement = statement.order_by((Proposal.id * sa.literal(query.seed, sa.BigInteger)) % RANDOM_PRIME, Proposal.id)
    else:
        statement = statement.order_by(Proposal.created_at.desc(), Proposal.id.desc())
    return statement


def _matching(statement: sa.Select, words: list[str]) -> tuple[sa.Select, sa.ColumnElement | None]:
    """``statement`` narrowed to the proposals holding every word (:mod:`pbvote.proposals.search`),
    with the relevance to order by first (0 when the title holds every word, else 1).  A query with
    no word (only punctuation) finds nothing."""
    if not words:
        return statement.where(sa.false()), None
    if db.session.get_bind().dialect.name == "postgresql":
        tsquery = sa.cast(sa.literal(search.tsquery_text(words)), TSQUERY)
        return (statement.where(search_document().op("@@")(tsquery)),
                sa.case((title_document().op("@@")(tsquery), 0), else_=1))
    fts = sa.table(search.FTS_TABLE, sa.column("rowid"))

    def rows(match: str):
        return sa.select(fts.c.rowid).where(sa.literal_column(search.FTS_TABLE).op("MATCH")(match))

    everywhere = search.fts5_query(words)
    in_title = "{search_title} : (" + everywhere + ")"
    return (statement.where(Proposal.id.in_(rows(everywhere))),
            sa.case((Proposal.id.in_(rows(in_title)), 0), else_=1))


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
