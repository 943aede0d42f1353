"""Reconciliation: every sheet handed out is accounted for (issued = counted + invalid + blank +
spoiled), per session and budget, live from the keyed sheets and the session's tally sheet; closing
a session; turnout by channel."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from flask_babel import gettext as _

from pbvote import audit
from pbvote.auth.models import Role, User
from pbvote.ballots.models import Ballot, BallotChannel, Participation
from pbvote.ballots.paper.models import (
    InvalidReason,
    PaperSession,
    PaperSheet,
    RegisterBudget,
    RegisterEntry,
    SessionCount,
    SheetBatch,
    SheetOutcome,
    SheetStatus,
)
from pbvote.ballots.paper.services.register import register_counts
from pbvote.ballots.paper.services.sessions import check_open, check_works_at
from pbvote.ballots.services.receipts import results_published
from pbvote.cycles.models import Budget, Cycle
from pbvote.errors import Conflict, InvalidInput, NotAllowed, PhaseClosed
from pbvote.extensions import db
from pbvote.timeutil import utcnow


@dataclass(frozen=True)
class Check:
    label: str
    ok: bool
    detail: str = ""


@dataclass(frozen=True)
class BudgetReconciliation:
    """One budget of one session: what was printed, handed out (the tally sheet), keyed and settled."""

    budget: Budget
    printed: int
    counts: SessionCount | None
    outcomes: dict[SheetOutcome, int]
    reasons: dict[InvalidReason, int]
    statuses: dict[SheetStatus, int]
    registered: int
    checks: list[Check] = field(default_factory=list)

    @property
    def accounted(self) -> int:
        """Sheets settled: counted + invalid + blank + spoiled."""
        return sum(self.outcomes.values())

    @property
    def pending(self) -> int:
        return sum(self.statuses.get(s, 0) for s in (SheetStatus.KEYED_ONCE, SheetStatus.DISCREPANCY, SheetStatus.REFERRED))

    @property
    def balanced(self) -> bool:
        return all(check.ok for check in self.checks)


def _checks(rec: BudgetReconciliation) -> list[Check]:
    counts, outcomes = rec.counts, rec.outcomes
    checks = [Check(_("Every keyed sheet is settled"), rec.pending == 0,
                    _("%(n)d sheets wait for a second keying or for staff.", n=rec.pending) if rec.pending else "")]
    if counts is None:
        checks.append(Check(_("Issued = counted + invalid + blank + spoiled"), False,
                            _("Enter the figures of the session's tally sheet.")))
        return checks
    total = rec.accounted
    checks.append(Check(
        _("Issued = counted + invalid + blank + spoiled"), counts.issued == total,
        _("%(issued)d issued, %(total)d accounted for (%(counted)d + %(invalid)d + %(blank)d + %(spoiled)d).",
          issued=counts.issued, total=total, counted=outcomes[SheetOutcome.COUNTED],
          invalid=outcomes[SheetOutcome.INVALID], blank=outcomes[SheetOutcome.BLANK],
          spoiled=outcomes[SheetOutcome.SPOILED]),
    ))
    checks.append(Check(
        _("Spoiled on the tally sheet = spoiled sheets keyed"), counts.spoiled == outcomes[SheetOutcome.SPOILED],
        _("%(sheet)d on the tally sheet, %(keyed)d keyed.", sheet=counts.spoiled, keyed=outcomes[SheetOutcome.SPOILED]),
    ))
    checks.append(Check(
        _("Received = issued + returned"), counts.received == counts.issued + counts.returned,
        _("%(received)d received, %(issued)d issued, %(returned)d returned unused.", received=counts.received,
          issued=counts.issued, returned=counts.returned),
    ))
    checks.append(Check(
        _("Received no more than printed"), counts.received <= rec.printed,
        _("%(received)d received, %(printed)d printed for this session.", received=counts.received, printed=rec.printed),
    ))
    return checks


def reconcile(session: PaperSession) -> list[BudgetReconciliation]:
    """The session's reconciliation, one row per budget it offers (live: read now)."""
    printed = dict(db.session.execute(
        sa.select(SheetBatch.budget_id, sa.func.sum(SheetBatch.size)).where(SheetBatch.session_id == session.id)
        .group_by(SheetBatch.budget_id)
    ).all())
    rows = db.session.execute(
        sa.select(PaperSheet.budget_id, PaperSheet.status, PaperSheet.outcome, PaperSheet.reason, sa.func.count())
        .where(PaperSheet.session_id == session.id)
        .group_by(PaperSheet.budget_id, PaperSheet.status, PaperSheet.outcome, PaperSheet.reason)
    ).all()
    counts = {c.budget_id: c for c in db.session.scalars(sa.select(SessionCount).where(SessionCount.session_id == session.id))}
    registered = register_counts(session)
    out = []
    for budget in session.budgets:
        outcomes = {outcome: 0 for outcome in SheetOutcome}
        reasons: dict[InvalidReason, int] = {}
        statuses: dict[SheetStatus, int] = {}
        for budget_id, status, outcome, reason, number in rows:
            if budget_id != budget.id:
                continue
            statuses[status] = statuses.get(status, 0) + number
            if outcome is not None:
                outcomes[outcome] += number
            if reason is not None:
                reasons[reason] = reasons.get(reason, 0) + number
        rec = BudgetReconciliation(budget, int(printed.get(budget.id) or 0), counts.get(budget.id), outcomes, reasons,
                                   statuses, registered.get((budget.id, BallotChannel.PAPER), 0))
        rec.checks.extend(_checks(rec))
        out.append(rec)
    return out


def is_balanced(reconciliation: list[BudgetReconciliation]) -> bool:
    return all(rec.balanced for rec in reconciliation)


def record_counts(actor: User, session: PaperSession, budget: Budget, *, received: int, issued: int, spoiled: int,
                  returned: int, now: datetime | None = None) -> SessionCount:
    """Record the figures of the session's tally sheet for ``budget`` (as counted by hand)."""
    check_works_at(actor, session)
    check_open(session, now)
    if budget.id not in {b.id for b in session.budgets}:
        raise InvalidInput(_("This budget is not offered at this session."), field="budget")
    for name, value in (("received", received), ("issued", issued), ("spoiled", spoiled), ("returned", returned)):
        if not isinstance(value, int) or value < 0:
            raise InvalidInput(_("Enter a whole number of 0 or more."), field=name)
    if spoiled > issued:
        raise InvalidInput(_("Spoiled sheets were issued first: they cannot outnumber the sheets issued."),
                           field="spoiled")
    counts = db.session.get(SessionCount, (session.id, budget.id))
    if counts is None:
        counts = SessionCount(session_id=session.id, budget_id=budget.id)
        db.session.add(counts)
    counts.received, counts.issued, counts.spoiled, counts.returned = received, issued, spoiled, returned
    counts.recorded_by_id, counts.recorded_at = actor.id, now or utcnow()
    audit.record("paper.tally_sheet", actor=actor, subject=session, budget_id=budget.id, received=received,
                 issued=issued, spoiled=spoiled, returned=returned)
    db.session.flush()
    return counts


def close_session(actor: User, session: PaperSession, note: str | None, now: datetime | None = None) -> PaperSession:
    """Close a session (staff): only when it balances, or with a note that explains the difference.
    Keying, the register and the kiosk codes of a closed session stop."""
    if not actor.has_role(Role.STAFF):
        raise NotAllowed(_("Only staff close a session."))
    if session.is_closed:
        raise Conflict(_("This session is closed already."))
    note = (note or "").strip()
    reconciliation = reconcile(session)
    balanced = is_balanced(reconciliation)
    if not balanced and not note:
        raise InvalidInput(_("The session does not balance: explain the difference to close it."), field="note")
    session.closed_at, session.closed_by_id, session.close_note = now or utcnow(), actor.id, note[:1000]
    audit.record("paper.session.closed", actor=actor, subject=session, balanced=balanced, note=note[:1000], figures={
        str(rec.budget.id): {"printed": rec.printed, "issued": rec.counts.issued if rec.counts else None,
                             **{o.value: n for o, n in rec.outcomes.items()}, "pending": rec.pending}
        for rec in reconciliation
    })
    db.session.flush()
    return session


def reopen_session(actor: User, session: PaperSession, note: str | None) -> PaperSession:
    """Reopen a closed session (staff), with why, until the results are published."""
    if not actor.has_role(Role.STAFF):
        raise NotAllowed(_("Only staff reopen a session."))
    if not session.is_closed:
        raise Conflict(_("This session is open."))
    if results_published(session.cycle):
        raise PhaseClosed(_("The results are published: the session stays closed."))
    note = (note or "").strip()
    if not note:
        raise InvalidInput(_("Say why the session is reopened."), field="note")
    session.closed_at = session.closed_by_id = None
    audit.record("paper.session.reopened", actor=actor, subject=session, note=note[:1000])
    db.session.flush()
    return session


# -- turnout --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Turnout:
    """One budget's turnout: counted ballots by channel, paper sheets not counted, voters by channel."""

    budget: Budget
    ballots: dict[BallotChannel, int]
    not_counted: dict[SheetOutcome, int]
    voters: dict[BallotChannel, int]

    @property
    def counted(self) -> int:
        return sum(self.ballots.values())


def turnout(cycle: Cycle) -> list[Turnout]:
    """Per budget of ``cycle``: counted ballots online, at kiosks and on paper (the tally's ballots),
    paper sheets that were not counted, and the voters who took part through each channel."""
    ids = [b.id for b in cycle.budgets]
    ballots = db.session.execute(
        sa.select(Ballot.budget_id, Ballot.channel, sa.func.count())
        .where(Ballot.budget_id.in_(ids), Ballot.superseded_at.is_(None), Ballot.voided_at.is_(None))
        .group_by(Ballot.budget_id, Ballot.channel)
    ).all()
    sheets = db.session.execute(
        sa.select(PaperSheet.budget_id, PaperSheet.outcome, sa.func.count())
        .where(PaperSheet.budget_id.in_(ids), PaperSheet.outcome.is_not(None),
               PaperSheet.outcome != SheetOutcome.COUNTED)
        .group_by(PaperSheet.budget_id, PaperSheet.outcome)
    ).all()
    # A kiosk voter registered by their account also gets the kiosk code's participation when they
    # vote: count that one only.
    kiosk_registrations = (
        sa.select(RegisterBudget.participation_id).join(RegisterEntry, RegisterEntry.id == RegisterBudget.entry_id)
        .where(RegisterEntry.channel == BallotChannel.KIOSK, RegisterBudget.participation_id.is_not(None))
    )
    voters = db.session.execute(
        sa.select(Participation.budget_id, Participation.channel, sa.func.count())
        .where(Participation.budget_id.in_(ids), Participation.id.not_in(kiosk_registrations))
        .group_by(Participation.budget_id, Participation.channel)
    ).all()
    out = []
    for budget in cycle.budgets:
        out.append(Turnout(
            budget,
            {channel: n for b, channel, n in ballots if b == budget.id},
            {outcome: n for b, outcome, n in sheets if b == budget.id},
            {channel: n for b, channel, n in voters if b == budget.id},
        ))
    return out
