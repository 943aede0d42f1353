"""Ballots of every channel (online now, paper next), their choices, who took part, access codes.

The shape that makes "exactly once" hold by construction:

* ``participations`` records that a voter (an account or an access code) took part in a budget.
  ``UNIQUE (budget_id, user_id)`` and ``UNIQUE (budget_id, access_code_id)``: one participation per
  voter per budget, on SQLite and PostgreSQL alike.  It is kept for good (one person, one ballot,
  across channels) but says nothing about what the voter chose.
* ``ballots`` are append-only facts, one table for every channel.  A ballot points to its
  participation only while re-voting needs the link (``participation_id``, severed when voting ends
  or at once when the cycle does not allow changing one's vote).  A partial unique index allows at
  most one *live* ballot (not superseded, not voided) per participation.
* Superseding and voiding only *mark* a ballot (when, by which ballot / who and why); the contents
  (``ballot_choices``) are never updated or deleted.
"""
from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pbvote.extensions import db, enum_column
from pbvote.places.models import District
from pbvote.timeutil import utcnow


class BallotChannel(enum.Enum):
    """How a ballot reached us."""

    ONLINE = "online"
    PAPER = "paper"


#: SQL condition of a live ballot: neither superseded nor voided.  The partial unique index and
#: :func:`pbvote.ballots.services.countable_ballots` use the same rule.
LIVE_CONDITION = "superseded_at IS NULL AND voided_at IS NULL"


class AccessCodeBatch(db.Model):
    """Codes generated together by staff for one budget or one district (mailed letters, kiosks)."""

    __tablename__ = "access_code_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(sa.ForeignKey("cycles.id", ondelete="CASCADE"), index=True)
    #: Exactly one of these two: a code for one budget, or for a district (its budget + city-wide).
    budget_id: Mapped[int | None] = mapped_column(sa.ForeignKey("budgets.id"), index=True)
    district_id: Mapped[int | None] = mapped_column(sa.ForeignKey("districts.id"), index=True)
    label: Mapped[str] = mapped_column(sa.String(120), default="")
    size: Mapped[int] = mapped_column(sa.Integer)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow)
    voided_at: Mapped[datetime | None] = mapped_column(sa.DateTime)

    cycle: Mapped["Cycle"] = relationship()  # noqa: F821
    budget: Mapped["Budget | None"] = relationship()  # noqa: F821
    district: Mapped[District | None] = relationship()
    created_by: Mapped["User | None"] = relationship()  # noqa: F821

    __table_args__ = (
        sa.CheckConstraint("(budget_id IS NULL) <> (district_id IS NULL)", name="budget_or_district"),
        sa.CheckConstraint("size > 0", name="size_positive"),
    )


class AccessCode(db.Model):
    """One single-use access code.  Only a keyed hash is stored; the code itself is shown once.

    ``lookup`` is an indexed prefix of that hash, so finding a code is one index probe; the full
    hash is then compared in constant time.
    """

    __tablename__ = "access_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(sa.ForeignKey("access_code_batches.id"), index=True)
    lookup: Mapped[str] = mapped_column(sa.String(16), index=True)
    code_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    #: Set when the code was redeemed into an account (which it then verified); it can no longer
    #: be used on its own.
    redeemed_at: Mapped[datetime | None] = mapped_column(sa.DateTime)
    redeemed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"), index=True)
    voided_at: Mapped[datetime | None] = mapped_column(sa.DateTime)
    voided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    void_reason: Mapped[str | None] = mapped_column(sa.String(200))

    batch: Mapped[AccessCodeBatch] = relationship(lazy="joined", innerjoin=True)

    __table_args__ = (sa.CheckConstraint("voided_at IS NULL OR void_reason IS NOT NULL", name="void_has_reason"),)

    @property
    def is_void(self) -> bool:
        return self.voided_at is not None or self.batch.voided_at is not None


class Participation(db.Model):
    """The fact that a voter took part in a budget — never what they chose."""

    __tablename__ = "participations"

    id: Mapped[int] = mapped_column(primary_key=True)
    budget_id: Mapped[int] = mapped_column(sa.ForeignKey("budgets.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    access_code_id: Mapped[int | None] = mapped_column(sa.ForeignKey("access_codes.id"))
    channel: Mapped[BallotChannel] = mapped_column(enum_column(BallotChannel, length=12))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow)

    __table_args__ = (
        sa.UniqueConstraint("budget_id", "user_id"),
        sa.UniqueConstraint("budget_id", "access_code_id"),
        sa.CheckConstraint("user_id IS NOT NULL OR access_code_id IS NOT NULL", name="has_voter"),
        sa.Index("ix_participations_user_id", "user_id"),
        sa.Index("ix_participations_access_code_id", "access_code_id"),
    )


class Ballot(db.Model):
    """One ballot of one budget, from any channel.  Append-only: contents never change."""

    __tablename__ = "ballots"

    id: Mapped[int] = mapped_column(primary_key=True)
    budget_id: Mapped[int] = mapped_column(sa.ForeignKey("budgets.id"), index=True)
    channel: Mapped[BallotChannel] = mapped_column(enum_column(BallotChannel, length=12))
    cast_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow)
    #: The voter link, kept only while re-voting needs it (see module docstring).
    participation_id: Mapped[int | None] = mapped_column(sa.ForeignKey("participations.id"))
    #: SHA-256 of the receipt's tracking code (published after the results).
    tracking_hash: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    #: Keyed hash of (voter, budget, form token): a retried submission finds its ballot.
    submission_hash: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    #: The ballot this one replaced (the voter changed their vote).
    supersedes_id: Mapped[int | None] = mapped_column(sa.ForeignKey("ballots.id"), unique=True)
    superseded_at: Mapped[datetime | None] = mapped_column(sa.DateTime)
    voided_at: Mapped[datetime | None] = mapped_column(sa.DateTime)
    voided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    void_reason: Mapped[str | None] = mapped_column(sa.String(200))

    choices: Mapped[list[BallotChoice]] = relationship(
        back_populates="ballot", order_by="BallotChoice.proposal_id", lazy="selectin"
    )
    budget: Mapped["Budget"] = relationship()  # noqa: F821

    __table_args__ = (
        sa.Index(
            "uq_ballots_live_participation",
            "participation_id",
            unique=True,
            sqlite_where=sa.text(LIVE_CONDITION),
            postgresql_where=sa.text(LIVE_CONDITION),
        ),
        sa.CheckConstraint("voided_at IS NULL OR void_reason IS NOT NULL", name="void_has_reason"),
        sa.CheckConstraint("channel <> 'online' OR tracking_hash IS NOT NULL", name="online_has_tracking"),
    )

    @property
    def is_live(self) -> bool:
        return self.superseded_at is None and self.voided_at is None


class BallotChoice(db.Model):
    """One project marked on a ballot: ticked (no value), given points, or ranked."""

    __tablename__ = "ballot_choices"

    ballot_id: Mapped[int] = mapped_column(sa.ForeignKey("ballots.id"), primary_key=True)
    proposal_id: Mapped[int] = mapped_column(sa.ForeignKey("proposals.id"), primary_key=True)
    points: Mapped[int | None] = mapped_column(sa.Integer)
    rank: Mapped[int | None] = mapped_column(sa.Integer)

    ballot: Mapped[Ballot] = relationship(back_populates="choices")
    proposal: Mapped["Proposal"] = relationship()  # noqa: F821

    __table_args__ = (
        sa.UniqueConstraint("ballot_id", "rank"),
        sa.CheckConstraint("points IS NULL OR points > 0", name="points_positive"),
        sa.CheckConstraint("rank IS NULL OR rank >= 1", name="rank_positive"),
        sa.Index("ix_ballot_choices_proposal_id", "proposal_id"),
    )
