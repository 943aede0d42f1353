"""Proposals: what residents ask the council to fund."""
from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pbvote.extensions import db, enum_column
from pbvote.timeutil import utcnow


class ProposalStatus(enum.Enum):
    DRAFT = "draft"  # being written; visible to its authors only
    SUBMITTED = "submitted"  # public, collecting supports, awaiting review
    FEASIBLE = "feasible"  # reviewed: goes on the ballot at its final cost
    UNFEASIBLE = "unfeasible"  # reviewed: cannot be done, with a public reason
    MERGED = "merged"  # combined into another proposal
    WITHDRAWN = "withdrawn"  # taken back by its author


#: Statuses the public can see.
PUBLIC_STATUSES = (
    ProposalStatus.SUBMITTED,
    ProposalStatus.FEASIBLE,
    ProposalStatus.UNFEASIBLE,
    ProposalStatus.MERGED,
)


class Proposal(db.Model):
    __tablename__ = "proposals"

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(sa.ForeignKey("cycles.id", ondelete="CASCADE"), index=True)
    budget_id: Mapped[int] = mapped_column(sa.ForeignKey("budgets.id"), index=True)
    category_id: Mapped[int | None] = mapped_column(sa.ForeignKey("categories.id", ondelete="SET NULL"), index=True)
    author_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)

    title: Mapped[str] = mapped_column(sa.String(160))
    #: Markdown as written; rendered and sanitised on display.
    body: Mapped[str] = mapped_column(sa.Text)
    #: The author's estimate, in the currency's smallest unit.
    estimated_amount: Mapped[int] = mapped_column(sa.BigInteger)
    #: Set by review: the cost that goes on the ballot, with a public explanation if it differs.
    final_amount: Mapped[int | None] = mapped_column(sa.BigInteger)
    cost_explanation: Mapped[str | None] = mapped_column(sa.Text)

    address: Mapped[str | None] = mapped_column(sa.String(200))
    latitude: Mapped[float | None] = mapped_column(sa.Float)
    longitude: Mapped[float | None] = mapped_column(sa.Float)

    status: Mapped[ProposalStatus] = mapped_column(
        enum_column(ProposalStatus), default=ProposalStatus.DRAFT, index=True
    )
    review_reason: Mapped[str | None] = mapped_column(sa.Text)
    merged_into_id: Mapped[int | None] = mapped_column(sa.ForeignKey("proposals.id", ondelete="SET NULL"))
    reviewed_at: Mapped[datetime | None] = mapped_column(sa.DateTime)
    reviewed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))

    #: Number of supports, kept in step by the support service so lists can sort by it cheaply.
    support_count: Mapped[int] = mapped_column(sa.Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow, index=True)
    submitted_at: Mapped[datetime | None] = mapped_column(sa.DateTime)
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow, onupdate=utcnow)

    cycle: Mapped["Cycle"] = relationship()  # noqa: F821
    budget: Mapped["Budget"] = relationship()  # noqa: F821
    category: Mapped["Category | None"] = relationship()  # noqa: F821
    author: Mapped["User"] = relationship(foreign_keys=[author_id])  # noqa: F821
    reviewed_by: Mapped["User | None"] = relationship(foreign_keys=[reviewed_by_id])  # noqa: F821
    merged_into: Mapped[Proposal | None] = relationship(remote_side=[id])

    __table_args__ = (
        sa.CheckConstraint("estimated_amount > 0", name="estimated_amount_positive"),
        sa.CheckConstraint("final_amount IS NULL OR final_amount > 0", name="final_amount_positive"),
        sa.CheckConstraint("support_count >= 0", name="support_count_not_negative"),
        sa.Index("ix_proposals_budget_status", "budget_id", "status"),
    )

    @property
    def ballot_amount(self) -> int:
        """The cost that counts on the ballot: the reviewed final cost, else the estimate."""
        return self.final_amount if self.final_amount is not None else self.estimated_amount

    def __repr__(self) -> str:
        return f"<Proposal {self.id} {self.title!r}>"
