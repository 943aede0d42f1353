"""Printed sheets: batches of serial-numbered ballot sheets per session and budget, the projects'
printed numbering, and finding a sheet by the serial a volunteer keyed or scanned."""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import sqlalchemy as sa
from flask_babel import gettext as _

from pbvote import audit
from pbvote.auth.models import User
from pbvote.ballots.choices import BallotProposal
from pbvote.ballots.paper.models import PaperSession, PaperSheet, SheetBatch, SheetStatus
from pbvote.ballots.paper.serials import SERIAL_LENGTH, is_valid_serial, normalize_serial, random_serial
from pbvote.ballots.paper.services.sessions import check_open
from pbvote.ballots.services.casting import note_frozen
from pbvote.ballots.services.content import ballot_snapshot
from pbvote.cycles.models import Budget
from pbvote.errors import Conflict, InvalidInput
from pbvote.extensions import db
from pbvote.templating import datetime_format
from pbvote.timeutil import utcnow

#: The most sheets printed at once (one A4 page each).
MAX_BATCH_SIZE = 500


def printed_order(budget: Budget) -> list[BallotProposal]:
    """The projects on ``budget``'s ballot in the order a sheet prints them (by name), numbered 1..n."""
    return sorted(ballot_snapshot(budget), key=lambda p: (p.title.casefold(), p.id))


def batch_projects(batch: SheetBatch) -> list[BallotProposal]:
    """The projects of ``batch`` in its printed order: project number n is the n-th.

    Printing froze the budget, so the ballot cannot have changed since; should it have anyway (a
    database edited by hand), keying stops here rather than read a number as the wrong project."""
    by_id = {p.id: p for p in ballot_snapshot(batch.budget)}
    if set(by_id) != set(batch.layout):
        raise Conflict(_("The projects of this budget changed after its sheets were printed: these sheets cannot be "
                         "keyed. Ask the council's staff."))
    return [by_id[pid] for pid in batch.layout]


def _freeze(budget: Budget, now: datetime) -> None:
    """Printed sheets are what voters rely on: printing freezes the budget's projects, costs and rules,
    as its first ballot would."""
    if budget.frozen_at is None:
        db.session.execute(
            sa.update(Budget).where(Budget.id == budget.id, Budget.frozen_at.is_(None)).values(frozen_at=now)
        )
        note_frozen(budget, now)


def _fresh_serials(count: int, serial_source: Callable[[], str]) -> list[str]:
    """``count`` serials that no sheet has yet (the unique constraint is the last word), in the
    order drawn (sheets are printed in that order)."""
    serials: dict[str, None] = {}
    while len(serials) < count:
        candidates = [s for s in (serial_source() for _ in range(count - len(serials))) if s not in serials]
        taken = set(db.session.scalars(sa.select(PaperSheet.serial).where(PaperSheet.serial.in_(candidates))))
        serials.update((s, None) for s in candidates if s not in taken)
    return list(serials)


def generate_sheets(actor: User, session: PaperSession, budget: Budget, count: int,
                    now: datetime | None = None, serial_source: Callable[[], str] = random_serial) -> SheetBatch:
    """Print ``count`` sheets of ``budget`` for ``session``: a batch with the printed numbering and
    one serial per sheet.  Freezes the budget (the sheets show its projects, costs and rules).
    ``serial_source``: where serials come from (the operating system's CSPRNG; the demo city
    passes a seeded one, so that its printed serials are the same every time)."""
    now = now or utcnow()
    check_open(session, now)
    if budget.id not in {b.id for b in session.budgets}:
        raise InvalidInput(_("This budget is not offered at this session."), field="budget")
    if not isinstance(count, int) or not 1 <= count <= MAX_BATCH_SIZE:
        raise InvalidInput(_("Print between 1 and %(n)d sheets at a time.", n=MAX_BATCH_SIZE), field="count")
    # The review services change a budget's projects under this lock: none can change mid-print.
    db.session.execute(sa.select(Budget.id).where(Budget.id == budget.id).with_for_update())
    projects = printed_order(budget)
    if not projects:
        raise InvalidInput(_("This budget has no projects on its ballot yet."), field="budget")
    _freeze(budget, now)
    batch = SheetBatch(session_id=session.id, budget_id=budget.id, size=count, layout=[p.id for p in projects],
                       created_by_id=actor.id, created_at=now)
    db.session.add(batch)
    db.session.flush()
    rows = [{"batch_id": batch.id, "session_id": session.id, "budget_id": budget.id, "serial": serial,
             "status": SheetStatus.UNKEYED, "decision_note": ""} for serial in _fresh_serials(count, serial_source)]
    db.session.execute(sa.insert(PaperSheet.__table__), rows)
    audit.record("paper.sheets.printed", actor=actor, subject=batch, session_id=session.id, budget_id=budget.id,
                 count=count)
    db.session.flush()
    return batch


def batch_sheets(batch: SheetBatch) -> list[PaperSheet]:
    return list(db.session.scalars(sa.select(PaperSheet).where(PaperSheet.batch_id == batch.id).order_by(PaperSheet.id)))


def session_batches(session: PaperSession) -> list[SheetBatch]:
    return list(db.session.scalars(
        sa.select(SheetBatch).where(SheetBatch.session_id == session.id).order_by(SheetBatch.id)
    ))


def check_serial(text: str | None) -> str:
    """The serial a volunteer typed or scanned, checked by its check digit (:class:`InvalidInput` on ``serial``)."""
    serial = normalize_serial(text)
    if not serial:
        raise InvalidInput(_("Type or scan the sheet's serial number."), field="serial")
    if len(serial) != SERIAL_LENGTH or not serial.isdigit():
        raise InvalidInput(_("A serial number has %(n)d digits.", n=SERIAL_LENGTH), field="serial")
    if not is_valid_serial(serial):
        raise InvalidInput(_("This serial number does not check out: a digit is mistyped or two are swapped."),
                           field="serial")
    return serial


def sheet_of_session(session: PaperSession, serial_text: str | None, *, lock: bool = False) -> PaperSheet:
    """The sheet with the serial typed, which must belong to ``session``; ``lock``: under its row
    lock (every change to a sheet takes it first)."""
    serial = check_serial(serial_text)
    statement = sa.select(PaperSheet).where(PaperSheet.serial == serial)
    if lock:
        statement = statement.with_for_update(of=PaperSheet).execution_options(populate_existing=True)
    sheet = db.session.scalar(statement)
    if sheet is None:
        raise InvalidInput(_("No sheet has the serial number %(serial)s.", serial=serial), field="serial")
    if sheet.session_id != session.id:
        other = sheet.session
        raise InvalidInput(_("Sheet %(serial)s belongs to another session (%(place)s, %(date)s).", serial=serial,
                             place=other.place, date=datetime_format(other.starts_at, "date", other.cycle)), field="serial")
    return sheet


def lock_sheet(sheet_id: int) -> PaperSheet | None:
    """Sheet ``sheet_id`` reloaded under its row lock."""
    return db.session.scalar(
        sa.select(PaperSheet).where(PaperSheet.id == sheet_id).with_for_update(of=PaperSheet)
        .execution_options(populate_existing=True)
    )
