"""Implementation tracking: one record per funded project, its milestones, photos, and which of the
pledges made at the proposal stage were fulfilled.

The database holds the rules that must never break: one record per proposal (unique), a progress
between 0 and 100, a reason for every cancellation, a done milestone has its date, a photo has alt
text.  Which proposals may have a record (those funded by a live publication) is a service rule
(:func:`pbvote.results.implementation.services.require_funded`): a publication can be corrected.
"""
from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pbvote.extensions import db, enum_column
from pbvote.proposals.models import Pledge, Proposal
from pbvote.timeutil import utcnow


class ImplementationStatus(enum.Enum):
    PLANNED = "planned"  # funded, work not started
    IN_PROGRESS = "in_progress"
    DONE = "done"
    CANCELLED = "cancelled"  # will not be delivered; the public reason is required


class Implementation(db.Model):
    """How a funded project is being delivered: status, progress, dates and a public note."""

    __tablename__ = "implementations"
    audit_type = "Implementation"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(sa.ForeignKey("proposals.id", ondelete="CASCADE"), unique=True)
    status: Mapped[ImplementationStatus] = mapped_column(
        enum_column(ImplementationStatus), default=ImplementationStatus.PLANNED,
    )
    progress_percent: Mapped[int] = mapped_column(sa.SmallInteger, default=0)
    cancellation_reason: Mapped[str | None] = mapped_column(sa.Text)
    started_on: Mapped[date | None] = mapped_column(sa.Date)
    expected_on: Mapped[date | None] = mapped_column(sa.Date)
    finished_on: Mapped[date | None] = mapped_column(sa.Date)
    #: Shown on the public page: what is happening, in plain words.
    public_note: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))

    proposal: Mapped[Proposal] = relationship()
    milestones: Mapped[list[Milestone]] = relationship(
        back_populates="implementation", cascade="all, delete-orphan",
        order_by=lambda: [Milestone.due_on.is_(None), Milestone.due_on, Milestone.id],
    )
    photos: Mapped[list[ImplementationPhoto]] = relationship(
        back_populates="implementation", cascade="all, delete-orphan", order_by="ImplementationPhoto.id",
    )

    __table_args__ = (
        sa.CheckConstraint("progress_percent BETWEEN 0 AND 100", name="progress_range"),
        sa.CheckConstraint("status != 'cancelled' OR cancellation_reason IS NOT NULL", name="cancelled_has_reason"),
        sa.CheckConstraint("status != 'done' OR (progress_percent = 100 AND finished_on IS NOT NULL)",
                           name="done_is_complete"),
    )

    def __repr__(self) -> str:
        return f"<Implementation proposal={self.proposal_id} {self.status.value} {self.progress_percent}%>"


class Milestone(db.Model):
    """A step of a project's delivery: due by a date, done on a date, with a public note.
    Shown in order of their due dates (those without one last), then as they were added."""

    __tablename__ = "implementation_milestones"
    audit_type = "Milestone"

    id: Mapped[int] = mapped_column(primary_key=True)
    implementation_id: Mapped[int] = mapped_column(
        sa.ForeignKey("implementations.id", ondelete="CASCADE"), index=True,
    )
    title: Mapped[str] = mapped_column(sa.String(160))
    due_on: Mapped[date | None] = mapped_column(sa.Date)
    done_on: Mapped[date | None] = mapped_column(sa.Date)
    note: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow)

    implementation: Mapped[Implementation] = relationship(back_populates="milestones")

    __table_args__ = (sa.CheckConstraint("title != ''", name="title_not_empty"),)

    @property
    def is_done(self) -> bool:
        return self.done_on is not None


class ImplementationPhoto(db.Model):
    """A photo of the work, stored like a proposal's pictures (random name under the upload folder,
    type checked by content, file written after the commit).  Alt text is required."""

    __tablename__ = "implementation_photos"
    audit_type = "ImplementationPhoto"

    id: Mapped[int] = mapped_column(primary_key=True)
    implementation_id: Mapped[int] = mapped_column(
        sa.ForeignKey("implementations.id", ondelete="CASCADE"), index=True,
    )
    uploaded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    stored_name: Mapped[str] = mapped_column(sa.String(64), unique=True)
    content_type: Mapped[str] = mapped_column(sa.String(40))
    size_bytes: Mapped[int] = mapped_column(sa.Integer)
    alt_text: Mapped[str] = mapped_column(sa.String(200))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow)

    implementation: Mapped[Implementation] = relationship(back_populates="photos")

    __table_args__ = (
        sa.CheckConstraint("size_bytes > 0", name="size_positive"),
        sa.CheckConstraint("alt_text != ''", name="alt_text_not_empty"),
    )


class PledgeFulfilment(db.Model):
    """A pledge of help made at the proposal stage, marked fulfilled by staff (with an optional note).
    No row: not (yet) fulfilled."""

    __tablename__ = "pledge_fulfilments"

    pledge_id: Mapped[int] = mapped_column(sa.ForeignKey("pledges.id", ondelete="CASCADE"), primary_key=True)
    fulfilled_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow)
    note: Mapped[str] = mapped_column(sa.String(500), default="")
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))

    pledge: Mapped[Pledge] = relationship()
