"""Paper ballots at community sessions: the sessions, their printed sheets, the volunteers' double
entry, the voter register and the conflicts it finds, the session tally sheet.

Exactly once, in the schema (the services take the sheet's row lock first; these hold whatever
they get wrong):

* ``paper_sheets.serial`` is unique: one sheet per serial, ever.
* ``paper_entries``: at most one active entry per sheet and slot (1 and 2: the two independent
  keyings) and per sheet and volunteer (one volunteer never fills both slots) — partial unique
  indexes, the same on SQLite and PostgreSQL.  Entries are append-only: undoing one marks it.
* ``paper_sheets.ballot_id`` is unique, and the ballot itself is unique per budget and serial
  among live ballots (:class:`pbvote.ballots.models.Ballot`): a sheet never becomes two ballots.
* A sheet's outcome matches its state (named check constraints): a counted sheet has its ballot,
  an invalid one its reason, and only a final sheet (matched or decided by staff) has an outcome.

Who voted on paper lives in the register (``paper_register_entries``) and in
:class:`~pbvote.ballots.models.Participation` rows (one per person and budget, whatever the
channel); nothing links a person to a sheet.
"""
from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pbvote.ballots.models import BallotChannel
from pbvote.extensions import db, enum_column
from pbvote.timeutil import utcnow


def _channel_column(name: str) -> sa.Enum:
    """A channel column whose check constraint is named ``name`` (a table with two of them needs two names)."""
    return sa.Enum(BallotChannel, native_enum=False, create_constraint=True, length=12, name=name,
                   values_callable=lambda members: [member.value for member in members], validate_strings=True)


class InvalidPolicy(enum.Enum):
    """What happens to a paper ballot that breaks the rules (over the budget, too many projects...)."""

    #: It is invalid as a whole: recorded with its reason, counted in the reconciliation, never in the tally.
    INVALID = "invalid"
    #: It is set aside for staff, who check the paper and decide (still never counted in part).
    REFER = "refer"


class SheetStatus(enum.Enum):
    """Where a sheet is in the double entry (see ``docs/paper.md`` for the state machine)."""

    UNKEYED = "unkeyed"
    KEYED_ONCE = "keyed_once"
    MATCHED = "matched"
    DISCREPANCY = "discrepancy"
    REFERRED = "referred"
    DECIDED = "decided"


#: A sheet whose outcome is settled (a second keying matched the first, or staff decided).
FINAL_STATUSES = (SheetStatus.MATCHED, SheetStatus.DECIDED)
#: Sheets keyed but not settled: they keep a session from balancing.
PENDING_STATUSES = (SheetStatus.KEYED_ONCE, SheetStatus.DISCREPANCY, SheetStatus.REFERRED)


class SheetOutcome(enum.Enum):
    """What a sheet turned out to be; the reconciliation adds them up."""

    COUNTED = "counted"
    INVALID = "invalid"
    BLANK = "blank"
    SPOILED = "spoiled"


class InvalidReason(enum.Enum):
    """Why a sheet is invalid: the rule it breaks (``InvalidBallot.reason``) or that it cannot be read."""

    OVER_BUDGET = "over_budget"
    TOO_MANY = "too_many"
    TOO_FEW = "too_few"
    RULE = "rule"
    UNREADABLE = "unreadable"


class EntryState(enum.Enum):
    ACTIVE = "active"
    #: Withdrawn by its author before the sheet was settled.
    UNDONE = "undone"
    #: Kept for staff but not used for matching: its author had keyed the sheet already, or the
    #: sheet had its two entries already.
    FLAGGED = "flagged"


class EntryFlag(enum.Enum):
    SAME_VOLUNTEER = "same_volunteer"
    EXTRA = "extra"


class RegisterMethod(enum.Enum):
    """How the register knew the voter (the cycle's eligibility decides which are offered)."""

    ACCESS_CODE = "access_code"
    ACCOUNT = "account"
    #: Neither: the volunteer checked who they are (where the cycle allows walk-ins).
    WALK_IN = "walk_in"


class ConflictKind(enum.Enum):
    #: The register found that the voter had already taken part in the budget (online, at a kiosk,
    #: or on paper at another session): no sheet was handed out for it.
    VOTED_BEFORE = "voted_before"
    #: The voter was registered at a session and then tried to vote online: refused.
    VOTED_AFTER = "voted_after"


paper_session_budgets = sa.Table(
    "paper_session_budgets",
    db.metadata,
    sa.Column("session_id", sa.ForeignKey("paper_sessions.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("budget_id", sa.ForeignKey("budgets.id"), primary_key=True, index=True),
)

paper_session_volunteers = sa.Table(
    "paper_session_volunteers",
    db.metadata,
    sa.Column("session_id", sa.ForeignKey("paper_sessions.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("user_id", sa.ForeignKey("users.id"), primary_key=True, index=True),
)


class PaperSettings(db.Model):
    """A cycle's rules for paper: its invalid-ballot policy, in plain words on every sheet and entry
    screen, and whether walk-ins may vote.  Frozen once a sheet of the cycle has been keyed."""

    __tablename__ = "paper_settings"

    cycle_id: Mapped[int] = mapped_column(sa.ForeignKey("cycles.id", ondelete="CASCADE"), primary_key=True)
    invalid_policy: Mapped[InvalidPolicy] = mapped_column(enum_column(InvalidPolicy, length=12),
                                                          default=InvalidPolicy.INVALID)
    #: Staff's own words added to the policy (what the council decided about marks, say).
    policy_note: Mapped[str] = mapped_column(sa.String(500), default="")
    walk_ins: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))


class PaperSession(db.Model):
    """A community session: a place and time where residents vote on paper (or at a kiosk), the
    budgets offered there and the volunteers who run it."""

    __tablename__ = "paper_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(sa.ForeignKey("cycles.id"), index=True)
    place: Mapped[str] = mapped_column(sa.String(120))
    address: Mapped[str] = mapped_column(sa.String(200), default="")
    starts_at: Mapped[datetime] = mapped_column(sa.DateTime)
    ends_at: Mapped[datetime] = mapped_column(sa.DateTime)
    notes: Mapped[str] = mapped_column(sa.String(1000), default="")
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(sa.DateTime)
    closed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    #: Why the session closed without balancing (required then), or a remark.
    close_note: Mapped[str] = mapped_column(sa.String(1000), default="")

    cycle: Mapped["Cycle"] = relationship()  # noqa: F821
    budgets: Mapped[list["Budget"]] = relationship(  # noqa: F821
        secondary=paper_session_budgets, order_by="Budget.position"
    )
    volunteers: Mapped[list["User"]] = relationship(  # noqa: F821
        secondary=paper_session_volunteers, order_by="User.display_name"
    )
    closed_by: Mapped["User | None"] = relationship(foreign_keys=[closed_by_id])  # noqa: F821

    __table_args__ = (
        sa.CheckConstraint("starts_at < ends_at", name="starts_before_ends"),
        sa.CheckConstraint("(closed_at IS NULL) = (closed_by_id IS NULL)", name="closed_by_someone"),
    )

    @property
    def is_closed(self) -> bool:
        return self.closed_at is not None

    def __repr__(self) -> str:
        return f"<PaperSession {self.id} {self.place}>"


class SheetBatch(db.Model):
    """Sheets printed together for one session and budget, with the projects' printed numbering."""

    __tablename__ = "paper_sheet_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(sa.ForeignKey("paper_sessions.id"), index=True)
    budget_id: Mapped[int] = mapped_column(sa.ForeignKey("budgets.id"), index=True)
    size: Mapped[int] = mapped_column(sa.Integer)
    #: The projects' ids in the order printed: project number n is ``layout[n - 1]``.
    layout: Mapped[list[int]] = mapped_column(sa.JSON)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow)

    session: Mapped[PaperSession] = relationship()
    budget: Mapped["Budget"] = relationship()  # noqa: F821

    __table_args__ = (sa.CheckConstraint("size > 0", name="size_positive"),)

    @property
    def numbers(self) -> dict[int, int]:
        """Printed number → project id."""
        return {number: pid for number, pid in enumerate(self.layout, start=1)}


class PaperSheet(db.Model):
    """One printed ballot sheet: its serial, where it is in the double entry, and what it became."""

    __tablename__ = "paper_sheets"

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(sa.ForeignKey("paper_sheet_batches.id"), index=True)
    session_id: Mapped[int] = mapped_column(sa.ForeignKey("paper_sessions.id"), index=True)
    budget_id: Mapped[int] = mapped_column(sa.ForeignKey("budgets.id"), index=True)
    serial: Mapped[str] = mapped_column(sa.String(16), unique=True)
    status: Mapped[SheetStatus] = mapped_column(enum_column(SheetStatus, length=16), default=SheetStatus.UNKEYED)
    outcome: Mapped[SheetOutcome | None] = mapped_column(enum_column(SheetOutcome, length=12))
    reason: Mapped[InvalidReason | None] = mapped_column(enum_column(InvalidReason, length=16))
    #: The counted ballot (channel paper) this sheet became.
    ballot_id: Mapped[int | None] = mapped_column(sa.ForeignKey("ballots.id"), unique=True)
    settled_at: Mapped[datetime | None] = mapped_column(sa.DateTime)
    #: Staff who decided the sheet (a discrepancy, a referred sheet, a correction).
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    decision_note: Mapped[str] = mapped_column(sa.String(500), default="")

    batch: Mapped[SheetBatch] = relationship()
    session: Mapped[PaperSession] = relationship()
    budget: Mapped["Budget"] = relationship()  # noqa: F821
    decided_by: Mapped["User | None"] = relationship()  # noqa: F821

    __table_args__ = (
        sa.CheckConstraint("(outcome IS NOT NULL) = (status IN ('matched', 'decided'))", name="final_has_outcome"),
        sa.CheckConstraint("(ballot_id IS NOT NULL) = (COALESCE(outcome, '') = 'counted')", name="counted_has_ballot"),
        sa.CheckConstraint("(reason IS NOT NULL) = (COALESCE(outcome, '') = 'invalid')", name="invalid_has_reason"),
        sa.CheckConstraint("(settled_at IS NOT NULL) = (outcome IS NOT NULL)", name="settled_when_final"),
        sa.Index("ix_paper_sheets_session_status", "session_id", "status"),
    )

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_STATUSES


#: An entry that takes part in the matching: active, in slot 1 or 2.
_ACTIVE_SLOT = "state = 'active' AND slot IS NOT NULL"


class PaperEntry(db.Model):
    """One volunteer's keying of one sheet (or staff's record of what the paper says), attributed
    and append-only."""

    __tablename__ = "paper_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    sheet_id: Mapped[int] = mapped_column(sa.ForeignKey("paper_sheets.id"), index=True)
    session_id: Mapped[int] = mapped_column(sa.ForeignKey("paper_sessions.id"), index=True)
    author_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    keyed_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow)
    #: 1 or 2: which of the two independent keyings this is; none for staff decisions and flagged entries.
    slot: Mapped[int | None] = mapped_column(sa.Integer)
    is_decision: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    state: Mapped[EntryState] = mapped_column(enum_column(EntryState, length=12), default=EntryState.ACTIVE)
    flag: Mapped[EntryFlag | None] = mapped_column(enum_column(EntryFlag, length=16))
    #: The line as typed.
    text: Mapped[str] = mapped_column(sa.String(400))
    #: What the line means, written so that two entries mean the same exactly when these are equal.
    content: Mapped[str] = mapped_column(sa.String(1000))
    outcome: Mapped[SheetOutcome] = mapped_column(enum_column(SheetOutcome, length=12))
    reason: Mapped[InvalidReason | None] = mapped_column(enum_column(InvalidReason, length=16))
    #: The broken rule in plain words (for an invalid entry).
    message: Mapped[str] = mapped_column(sa.String(300), default="")
    #: Keyed hash of the entry form's token: the same submission twice is one entry.
    token_hash: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    undone_at: Mapped[datetime | None] = mapped_column(sa.DateTime)
    note: Mapped[str] = mapped_column(sa.String(500), default="")

    sheet: Mapped[PaperSheet] = relationship()
    author: Mapped["User"] = relationship()  # noqa: F821

    __table_args__ = (
        sa.Index("uq_paper_entries_active_slot", "sheet_id", "slot", unique=True,
                 sqlite_where=sa.text(_ACTIVE_SLOT), postgresql_where=sa.text(_ACTIVE_SLOT)),
        sa.Index("uq_paper_entries_active_author", "sheet_id", "author_id", unique=True,
                 sqlite_where=sa.text(_ACTIVE_SLOT), postgresql_where=sa.text(_ACTIVE_SLOT)),
        sa.CheckConstraint("slot IS NULL OR slot IN (1, 2)", name="slot_one_or_two"),
        sa.CheckConstraint("(slot IS NULL) = (is_decision OR flag IS NOT NULL)", name="slot_for_keyings"),
        sa.CheckConstraint("(state = 'flagged') = (flag IS NOT NULL)", name="flagged_has_flag"),
        sa.CheckConstraint("(state = 'undone') = (undone_at IS NOT NULL)", name="undone_when"),
        sa.CheckConstraint("(reason IS NOT NULL) = (outcome = 'invalid')", name="invalid_has_reason"),
    )


class RegisterEntry(db.Model):
    """One voter in a session's register: how they were known, who registered them, and whether
    they vote on paper or at the session's kiosk.  Never linked to a sheet or a ballot."""

    __tablename__ = "paper_register_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(sa.ForeignKey("paper_sessions.id"), index=True)
    method: Mapped[RegisterMethod] = mapped_column(enum_column(RegisterMethod, length=16))
    channel: Mapped[BallotChannel] = mapped_column(enum_column(BallotChannel, length=12))
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    access_code_id: Mapped[int | None] = mapped_column(sa.ForeignKey("access_codes.id"), index=True)
    #: The single-use code handed to a kiosk voter (cancelled if the entry is undone before use).
    kiosk_code_id: Mapped[int | None] = mapped_column(sa.ForeignKey("access_codes.id"), unique=True)
    registered_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    registered_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow)
    undone_at: Mapped[datetime | None] = mapped_column(sa.DateTime)

    user: Mapped["User | None"] = relationship(foreign_keys=[user_id])  # noqa: F821
    registered_by: Mapped["User"] = relationship(foreign_keys=[registered_by_id])  # noqa: F821
    budgets: Mapped[list[RegisterBudget]] = relationship(back_populates="entry", cascade="all, delete-orphan")

    __table_args__ = (
        sa.CheckConstraint("channel IN ('paper', 'kiosk')", name="paper_or_kiosk"),
        sa.CheckConstraint("(method = 'account') = (user_id IS NOT NULL)", name="account_has_user"),
        sa.CheckConstraint("(method = 'access_code') = (access_code_id IS NOT NULL)", name="code_has_code"),
    )


class RegisterBudget(db.Model):
    """A budget a registered voter was given a sheet (or a kiosk code) for, and the participation
    that marks them as having taken part in it."""

    __tablename__ = "paper_register_budgets"

    entry_id: Mapped[int] = mapped_column(sa.ForeignKey("paper_register_entries.id", ondelete="CASCADE"),
                                          primary_key=True)
    budget_id: Mapped[int] = mapped_column(sa.ForeignKey("budgets.id"), primary_key=True)
    participation_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("participations.id", ondelete="SET NULL"), unique=True
    )

    entry: Mapped[RegisterEntry] = relationship(back_populates="budgets")
    budget: Mapped["Budget"] = relationship()  # noqa: F821


class PaperConflict(db.Model):
    """Someone who tried to take part twice in a budget across channels, and what was done."""

    __tablename__ = "paper_conflicts"

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(sa.ForeignKey("cycles.id"), index=True)
    budget_id: Mapped[int] = mapped_column(sa.ForeignKey("budgets.id"))
    session_id: Mapped[int | None] = mapped_column(sa.ForeignKey("paper_sessions.id"), index=True)
    kind: Mapped[ConflictKind] = mapped_column(enum_column(ConflictKind, length=16))
    #: How they had taken part first, and how they tried again.
    first_channel: Mapped[BallotChannel] = mapped_column(_channel_column("first_channel"))
    attempted_channel: Mapped[BallotChannel] = mapped_column(_channel_column("attempted_channel"))
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    access_code_id: Mapped[int | None] = mapped_column(sa.ForeignKey("access_codes.id"))
    detected_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow)
    detected_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column(sa.DateTime)
    reviewed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    review_note: Mapped[str] = mapped_column(sa.String(500), default="")

    budget: Mapped["Budget"] = relationship()  # noqa: F821
    session: Mapped[PaperSession | None] = relationship()
    user: Mapped["User | None"] = relationship(foreign_keys=[user_id])  # noqa: F821
    detected_by: Mapped["User | None"] = relationship(foreign_keys=[detected_by_id])  # noqa: F821
    reviewed_by: Mapped["User | None"] = relationship(foreign_keys=[reviewed_by_id])  # noqa: F821

    __table_args__ = (
        sa.CheckConstraint("user_id IS NOT NULL OR access_code_id IS NOT NULL", name="has_voter"),
        sa.CheckConstraint("(reviewed_at IS NULL) = (reviewed_by_id IS NULL)", name="reviewed_by_someone"),
    )


class SessionCount(db.Model):
    """The session tally sheet of one budget, as the volunteers filled it in by hand."""

    __tablename__ = "paper_session_counts"

    session_id: Mapped[int] = mapped_column(sa.ForeignKey("paper_sessions.id", ondelete="CASCADE"), primary_key=True)
    budget_id: Mapped[int] = mapped_column(sa.ForeignKey("budgets.id"), primary_key=True)
    #: Blank sheets the session received, handed to voters, given back spoiled, and returned unused.
    received: Mapped[int] = mapped_column(sa.Integer)
    issued: Mapped[int] = mapped_column(sa.Integer)
    spoiled: Mapped[int] = mapped_column(sa.Integer)
    returned: Mapped[int] = mapped_column(sa.Integer)
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    recorded_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow)

    __table_args__ = (
        sa.CheckConstraint("received >= 0 AND issued >= 0 AND spoiled >= 0 AND returned >= 0", name="not_negative"),
    )
