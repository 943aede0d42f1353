"""Budget cycles: cycles with dated phases, budgets with their ballot and tally rules.

A cycle's current phase follows from its phase dates (see :meth:`Cycle.phase_at`); staff change the
dates only through ``pbvote.cycles.services``.  A budget's ballot rule, amount and tally rule freeze
at its first ballot (``Budget.frozen_at``).
"""
from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pbvote.extensions import db, enum_column
from pbvote.places.models import District
from pbvote.timeutil import utcnow


class PhaseKind(enum.Enum):
    """The phases of a cycle, in their fixed order.  Any of them can be left out."""

    SUBMISSION = "submission"
    REVIEW = "review"
    VOTING = "voting"
    RESULTS = "results"
    IMPLEMENTATION = "implementation"


PHASE_ORDER = list(PhaseKind)


class DistrictEligibility(enum.Enum):
    """Which budgets a resident may vote in."""

    #: The city-wide budget(s) and the budget of their home district.
    HOME_DISTRICT = "home_district"
    #: The city-wide budget(s) and any one district budget of their choosing.
    ANY_ONE_DISTRICT = "any_one_district"
    #: Every budget of the cycle.
    ALL_BUDGETS = "all_budgets"


class PhaseTimeline:
    """What follows from a cycle's dated phases (``self.phases``, ordered by ``starts_at``).

    Shared by :class:`Cycle` and the read-only snapshot the ballot cast uses
    (:mod:`pbvote.ballots.snapshots`), so both answer "is voting open?" by the same rule.
    """

    def phase(self, kind: PhaseKind) -> "Phase | None":
        return next((phase for phase in self.phases if phase.kind == kind), None)

    def phase_at(self, moment: datetime) -> "Phase | None":
        """The phase running at ``moment`` (naive UTC), or None before, between or after phases."""
        for phase in self.phases:
            if phase.starts_at <= moment < phase.ends_at:
                return phase
        return None

    def current_phase(self) -> "Phase | None":
        return self.phase_at(utcnow())

    def is_in(self, kind: PhaseKind, moment: datetime | None = None) -> bool:
        phase = self.phase_at(moment or utcnow())
        return phase is not None and phase.kind == kind

    def voting_has_closed(self, moment: datetime | None = None) -> bool:
        """True once the voting phase has ended: from then on no phase change may reopen it."""
        voting = self.phase(PhaseKind.VOTING)
        return voting is not None and voting.ends_at <= (moment or utcnow())


class Cycle(PhaseTimeline, db.Model):
    __tablename__ = "cycles"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(64), unique=True)
    name: Mapped[str] = mapped_column(sa.String(160))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    currency: Mapped[str] = mapped_column(sa.String(3), default="EUR")
    #: The IANA time zone its dates are entered and shown in (``Europe/Warsaw``); None: the
    #: site's (``BABEL_DEFAULT_TIMEZONE``).  See :func:`pbvote.timeutil.zone_name`.
    timezone: Mapped[str | None] = mapped_column(sa.String(64))
    is_published: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow)

    # Participation rules.
    max_proposals_per_resident: Mapped[int | None] = mapped_column(sa.Integer)
    support_threshold: Mapped[int] = mapped_column(sa.Integer, default=0)
    allow_vote_change: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    district_eligibility: Mapped[DistrictEligibility] = mapped_column(
        enum_column(DistrictEligibility), default=DistrictEligibility.HOME_DISTRICT
    )
    minimum_age: Mapped[int | None] = mapped_column(sa.Integer)
    verified_only: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    access_codes_enabled: Mapped[bool] = mapped_column(sa.Boolean, default=True)

    phases: Mapped[list[Phase]] = relationship(
        back_populates="cycle", cascade="all, delete-orphan", order_by="Phase.starts_at"
    )
    budgets: Mapped[list[Budget]] = relationship(
        back_populates="cycle", cascade="all, delete-orphan", order_by="Budget.position"
    )
    categories: Mapped[list[Category]] = relationship(
        back_populates="cycle", cascade="all, delete-orphan", order_by="Category.name"
    )

    __table_args__ = (
        sa.CheckConstraint("support_threshold >= 0", name="support_threshold_not_negative"),
        sa.CheckConstraint(
            "max_proposals_per_resident IS NULL OR max_proposals_per_resident > 0",
            name="max_proposals_positive",
        ),
    )

    @property
    def total_amount(self) -> int:
        return sum(budget.total_amount for budget in self.budgets)

    def __repr__(self) -> str:
        return f"<Cycle {self.slug}>"


class Phase(db.Model):
    """One dated phase of a cycle: ``starts_at`` inclusive, ``ends_at`` exclusive (naive UTC)."""

    __tablename__ = "phases"

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(sa.ForeignKey("cycles.id", ondelete="CASCADE"), index=True)
    kind: Mapped[PhaseKind] = mapped_column(enum_column(PhaseKind))
    starts_at: Mapped[datetime] = mapped_column(sa.DateTime)
    ends_at: Mapped[datetime] = mapped_column(sa.DateTime)

    cycle: Mapped[Cycle] = relationship(back_populates="phases")

    __table_args__ = (
        sa.UniqueConstraint("cycle_id", "kind"),
        sa.CheckConstraint("starts_at < ends_at", name="starts_before_ends"),
    )


class BallotType(enum.Enum):
    """How residents fill in the ballot of a budget."""

    APPROVAL = "approval"  # tick between min_choices and max_choices projects
    KNAPSACK = "knapsack"  # tick projects whose costs add up to at most the budget
    CUMULATIVE = "cumulative"  # spread points_total points, at most points_per_project each
    RANKING = "ranking"  # rank up to max_choices projects
    CHOOSE_ONE = "choose_one"  # pick exactly one project


class BudgetState:
    """What follows from a budget's ``district_id`` and ``frozen_at``; shared by :class:`Budget` and
    the cast's snapshot (:mod:`pbvote.ballots.snapshots`)."""

    @property
    def is_citywide(self) -> bool:
        return self.district_id is None

    @property
    def is_frozen(self) -> bool:
        return self.frozen_at is not None


class Budget(BudgetState, db.Model):
    """An amount of money of a cycle, city-wide (no district) or for one district."""

    __tablename__ = "budgets"

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(sa.ForeignKey("cycles.id", ondelete="CASCADE"), index=True)
    district_id: Mapped[int | None] = mapped_column(sa.ForeignKey("districts.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    position: Mapped[int] = mapped_column(sa.Integer, default=0)
    #: The money to distribute, in the currency's smallest unit (cents).
    total_amount: Mapped[int] = mapped_column(sa.BigInteger)

    # Ballot rule.
    ballot_type: Mapped[BallotType] = mapped_column(enum_column(BallotType), default=BallotType.APPROVAL)
    min_choices: Mapped[int] = mapped_column(sa.Integer, default=1)
    max_choices: Mapped[int | None] = mapped_column(sa.Integer)
    min_spend_percent: Mapped[int] = mapped_column(sa.Integer, default=0)
    points_total: Mapped[int | None] = mapped_column(sa.Integer)
    points_per_project: Mapped[int | None] = mapped_column(sa.Integer)

    # Tally rule: a key of pbvote.tally.RULES and its parameters (utility, completion, tie_break).
    tally_rule: Mapped[str] = mapped_column(sa.String(40), default="greedy")
    tally_params: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)

    #: Set when the first ballot is cast; from then on the rules above cannot change.
    frozen_at: Mapped[datetime | None] = mapped_column(sa.DateTime)

    cycle: Mapped[Cycle] = relationship(back_populates="budgets")
    district: Mapped[District | None] = relationship()

    __table_args__ = (
        sa.CheckConstraint("total_amount > 0", name="total_amount_positive"),
        sa.CheckConstraint("min_choices >= 0", name="min_choices_not_negative"),
        sa.CheckConstraint("max_choices IS NULL OR max_choices >= min_choices", name="min_not_above_max"),
        sa.CheckConstraint("min_spend_percent BETWEEN 0 AND 100", name="min_spend_percent_range"),
        sa.CheckConstraint("points_total IS NULL OR points_total > 0", name="points_total_positive"),
        sa.CheckConstraint(
            "points_per_project IS NULL OR points_per_project > 0", name="points_per_project_positive"
        ),
        sa.UniqueConstraint("cycle_id", "name"),
    )

    def __repr__(self) -> str:
        return f"<Budget {self.id} {self.name}>"


class Category(db.Model):
    __tablename__ = "categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(sa.ForeignKey("cycles.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(sa.String(80))

    cycle: Mapped[Cycle] = relationship(back_populates="categories")

    __table_args__ = (sa.UniqueConstraint("cycle_id", "name"),)
