"""Published results: what a budget's count gave, frozen at publication.

A :class:`Publication` is a fact that is never rewritten: the rule with its parameters and
tie-break, the engine's version, how many ballots were counted and the SHA-256 of the exact ballot
file that reproduces it (stored with it, so the open-data download is that very file).  A correction
is a new version with a reason; the one it replaces stays visible, marked superseded.  One live
publication per budget, held by a partial unique index.

:class:`PublishedProject` is one project's line in it: funded or not, its votes or score, its cost
and the engine's reason.  A proposal's status on the ballot stays ``feasible`` (a recount needs the
ballot as it was); "funded" / "not funded" is read from the live publication.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from pbvote.cycles.models import Budget
from pbvote.extensions import db
from pbvote.timeutil import utcnow


class Publication(db.Model):
    """One published version of a budget's result."""

    __tablename__ = "result_publications"
    __table_args__ = (
        sa.UniqueConstraint("budget_id", "version", name="uq_result_publications_budget_version"),
        sa.Index(
            "uq_result_publications_one_live", "budget_id", unique=True,
            sqlite_where=sa.text("superseded_at IS NULL"), postgresql_where=sa.text("superseded_at IS NULL"),
        ),
        sa.CheckConstraint("version = 1 OR correction_reason IS NOT NULL", name="correction_has_reason"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    budget_id: Mapped[int] = mapped_column(sa.ForeignKey("budgets.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(sa.Integer)
    rule: Mapped[str] = mapped_column(sa.String(40))
    #: every parameter the engine reported (utility, completion, tie_break, threshold, ...)
    parameters: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    tie_break: Mapped[str] = mapped_column(sa.String(20))
    engine_version: Mapped[str] = mapped_column(sa.String(40))
    ballot_count: Mapped[int] = mapped_column(sa.Integer)
    budget_amount: Mapped[int] = mapped_column(sa.BigInteger)
    funded_amount: Mapped[int] = mapped_column(sa.BigInteger)
    voters_with_funded_project: Mapped[int] = mapped_column(sa.Integer, default=0)
    #: voters with 0, 1, 2, ... funded projects: ``[[k, voters], ...]``
    satisfaction: Mapped[list[Any]] = mapped_column(sa.JSON, default=list)
    ballots_sha256: Mapped[str] = mapped_column(sa.String(64))
    ballots_file: Mapped[str] = deferred(mapped_column(sa.Text, nullable=False))
    recount_command: Mapped[str] = mapped_column(sa.String(300))
    #: why the rule was chosen when it was not the budget's own (an import naming none)
    note: Mapped[str | None] = mapped_column(sa.Text)
    correction_reason: Mapped[str | None] = mapped_column(sa.Text)
    published_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow)
    published_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    superseded_at: Mapped[datetime | None] = mapped_column(sa.DateTime)

    budget: Mapped[Budget] = relationship()
    projects: Mapped[list[PublishedProject]] = relationship(
        back_populates="publication", order_by="PublishedProject.position", cascade="all, delete-orphan",
    )

    @property
    def is_live(self) -> bool:
        return self.superseded_at is None

    def __repr__(self) -> str:
        return f"<Publication budget={self.budget_id} v{self.version} {self.rule}>"


class PublishedProject(db.Model):
    """One project's line in a publication (position: funded first, in the order the rule chose)."""

    __tablename__ = "result_projects"

    publication_id: Mapped[int] = mapped_column(
        sa.ForeignKey("result_publications.id", ondelete="CASCADE"), primary_key=True,
    )
    proposal_id: Mapped[int] = mapped_column(sa.ForeignKey("proposals.id"), primary_key=True, index=True)
    position: Mapped[int] = mapped_column(sa.Integer)
    funded: Mapped[bool] = mapped_column(sa.Boolean)
    score: Mapped[int] = mapped_column(sa.BigInteger)
    cost_amount: Mapped[int] = mapped_column(sa.BigInteger)
    reason: Mapped[str] = mapped_column(sa.Text, default="")
    details: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)

    publication: Mapped[Publication] = relationship(back_populates="projects")
    proposal = relationship("Proposal")
