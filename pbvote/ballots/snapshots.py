"""Read-only snapshots of what a ballot cast checks: the budget, its cycle and phases, the access code.

Casting is the hot path of a vote.  Loading the budget, its cycle with every phase and the access
code with its batch as ORM objects (one joined statement, about a dozen objects to build and track)
was a fifth of the server's CPU per cast.  :func:`load_cast_target` reads the same rows in the same
single statement — the access code under its row lock, as :func:`pbvote.ballots.services.voters.lock_code_voter`
takes it — as plain tuples (the ballot stores run it: :mod:`pbvote.ballots.services.stores`), and builds frozen dataclasses that answer every question the cast asks
(the same attribute names as the models, and the same phase rule: :class:`~pbvote.cycles.models.PhaseTimeline`).

Nothing here is cached: every cast sees the rows as they are in its own transaction, so a phase moved
or a code voided a moment ago counts at once.  Anything that writes through the ORM (the generic cast
path, the freeze) reloads the real objects.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from pbvote.ballots.models import AccessCode, AccessCodeBatch
from pbvote.cycles.models import (
    BallotType,
    Budget,
    BudgetState,
    Cycle,
    DistrictEligibility,
    Phase,
    PhaseKind,
    PhaseTimeline,
)


@dataclass(frozen=True)
class PhaseSnapshot:
    kind: PhaseKind
    starts_at: datetime
    ends_at: datetime


@dataclass(frozen=True)
class CycleSnapshot(PhaseTimeline):
    id: int
    slug: str
    name: str
    currency: str
    is_published: bool
    allow_vote_change: bool
    district_eligibility: DistrictEligibility
    minimum_age: int | None
    verified_only: bool
    access_codes_enabled: bool
    #: The zone its times are shown in (None: the site's), for the receipt.
    timezone: str | None
    #: Ordered by ``starts_at``, as ``Cycle.phases``.
    phases: tuple[PhaseSnapshot, ...]


@dataclass(frozen=True)
class BudgetSnapshot(BudgetState):
    """What a cast reads of a budget (:class:`pbvote.ballots.services.casting.CastBudget`)."""

    id: int
    cycle_id: int
    district_id: int | None
    name: str
    total_amount: int
    ballot_type: BallotType
    min_choices: int
    max_choices: int | None
    min_spend_percent: int
    points_total: int | None
    points_per_project: int | None
    frozen_at: datetime | None
    cycle: CycleSnapshot



@dataclass(frozen=True)
class BatchSnapshot:
    cycle_id: int
    budget_id: int | None
    district_id: int | None
    voided_at: datetime | None


@dataclass(frozen=True)
class CodeSnapshot:
    """What a cast reads of an access code and its batch (as :class:`~pbvote.ballots.models.AccessCode`)."""

    id: int
    redeemed_at: datetime | None
    voided_at: datetime | None
    batch: BatchSnapshot

    @property
    def is_void(self) -> bool:
        return self.voided_at is not None or self.batch.voided_at is not None


_BUDGET_COLUMNS = (
    Budget.id, Budget.cycle_id, Budget.district_id, Budget.name, Budget.total_amount, Budget.ballot_type,
    Budget.min_choices, Budget.max_choices, Budget.min_spend_percent, Budget.points_total,
    Budget.points_per_project, Budget.frozen_at,
)
_CYCLE_COLUMNS = (
    Cycle.id, Cycle.slug, Cycle.name, Cycle.currency, Cycle.is_published, Cycle.allow_vote_change,
    Cycle.district_eligibility, Cycle.minimum_age, Cycle.verified_only, Cycle.access_codes_enabled, Cycle.timezone,
)
_PHASE_COLUMNS = (Phase.kind, Phase.starts_at, Phase.ends_at)
_CODE_COLUMNS = (
    AccessCode.id, AccessCode.redeemed_at, AccessCode.voided_at,
    AccessCodeBatch.cycle_id, AccessCodeBatch.budget_id, AccessCodeBatch.district_id, AccessCodeBatch.voided_at,
)
_NB, _NC, _NP = len(_BUDGET_COLUMNS), len(_CYCLE_COLUMNS), len(_PHASE_COLUMNS)
_BALLOT_TYPE = next(i for i, column in enumerate(_BUDGET_COLUMNS) if column is Budget.ballot_type)
_ELIGIBILITY = next(i for i, column in enumerate(_CYCLE_COLUMNS) if column is Cycle.district_eligibility)

#: One row per phase (or one row with empty phase columns for a cycle without phases), the access
#: code ``code_id`` and its batch on every row.  Built once.
_CAST_TARGET_READ = (
    sa.select(*_BUDGET_COLUMNS, *_CYCLE_COLUMNS, *_PHASE_COLUMNS, *_CODE_COLUMNS)
    .select_from(Budget)
    .join(Cycle, Cycle.id == Budget.cycle_id)
    .outerjoin(Phase, Phase.cycle_id == Cycle.id)
    .join(AccessCode, AccessCode.id == sa.bindparam("code_id"))
    .join(AccessCodeBatch, AccessCodeBatch.id == AccessCode.batch_id)
    .where(Budget.id == sa.bindparam("budget_id"))
    .order_by(Phase.starts_at)
)
#: The same with the code locked (``FOR UPDATE OF access_codes``; SQLite serialises writers with its
#: IMMEDIATE transactions instead).
_CAST_TARGET = _CAST_TARGET_READ.with_for_update(of=AccessCode.__table__)


def cast_target_statement(locked: bool):
    """The statement reading a cast's target (bind ``budget_id`` and ``code_id``): with the code's row
    lock, or without it (a PostgreSQL write that takes the lock and checks the code itself)."""
    return _CAST_TARGET if locked else _CAST_TARGET_READ


def cast_target_from_rows(rows, *, enums: bool) -> tuple[BudgetSnapshot, CodeSnapshot] | None:
    """Snapshots of the budget (with its cycle and phases) and the access code from the rows of
    :func:`cast_target_statement`; None when there are none (no such budget or code).  ``enums``:
    the rows hold enums as their stored string values (read straight through the driver)."""
    if not rows:
        return None
    first = rows[0]
    phase_kind = PhaseKind if enums else _same
    phases = tuple(
        PhaseSnapshot(phase_kind(row[_NB + _NC]), row[_NB + _NC + 1], row[_NB + _NC + 2])
        for row in rows
        if row[_NB + _NC] is not None
    )
    cycle_row = list(first[_NB : _NB + _NC])
    budget_row = list(first[:_NB])
    if enums:
        cycle_row[_ELIGIBILITY] = DistrictEligibility(cycle_row[_ELIGIBILITY])
        budget_row[_BALLOT_TYPE] = BallotType(budget_row[_BALLOT_TYPE])
    cycle = CycleSnapshot(*cycle_row, phases=phases)
    budget = BudgetSnapshot(*budget_row, cycle=cycle)
    code_row = first[_NB + _NC + _NP :]
    code = CodeSnapshot(*code_row[:3], batch=BatchSnapshot(*code_row[3:]))
    return budget, code


def _same(value):
    return value
