"""Double entry of paper sheets: reading a keyed line against the ballot's rules, two independent
keyings per sheet, matching, the discrepancy queue, undo, and staff's decisions and corrections.

The state machine of a sheet (``docs/paper.md``)::

    unkeyed ──first keying──▶ keyed_once ──second keying, same──▶ matched (counted/invalid/blank/spoiled)
       ▲                        │   ▲                        └──▶ referred   (policy "refer" and it breaks a rule)
       └────────undo────────────┘   │
                                    └──undo── discrepancy ◀──second keying, different
    discrepancy, referred, keyed_once, matched, decided ──staff record what the paper says──▶ decided

Every change to a sheet happens under its row lock (``SELECT ... FOR UPDATE`` on PostgreSQL; on
SQLite every write transaction begins ``IMMEDIATE``), and the schema refuses whatever that lock
missed: a third active keying, one volunteer in both slots, a second live ballot of the serial.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import joinedload
from flask_babel import gettext as _

from pbvote import audit
from pbvote.auth.models import Role, User
from pbvote.ballots.choices import BallotProposal, Choice, spent_amount
from pbvote.ballots.kinds import kind_of
from pbvote.ballots.models import Ballot
from pbvote.ballots.paper.models import (
    EntryFlag,
    EntryState,
    InvalidPolicy,
    InvalidReason,
    PaperEntry,
    PaperSession,
    PaperSheet,
    SheetOutcome,
    SheetStatus,
)
from pbvote.ballots.paper.services.sessions import check_open, check_works_at, paper_settings
from pbvote.ballots.paper.services.sheets import batch_projects, lock_sheet, sheet_of_session
from pbvote.ballots.services.casting import cast_paper_ballot
from pbvote.ballots.services.keys import TOKEN_RE, _keyed_hash
from pbvote.ballots.services.receipts import results_published, void_ballot
from pbvote.errors import Conflict, InvalidBallot, InvalidInput, NotAllowed, PhaseClosed
from pbvote.extensions import db
from pbvote.timeutil import utcnow

#: The words a volunteer types instead of numbers for a sheet without a usable mark (English always
#: works; the translated word too).
_KEYWORDS = {
    SheetOutcome.BLANK: ("blank", "b"),
    SheetOutcome.SPOILED: ("spoiled", "spoilt", "s"),
    SheetOutcome.INVALID: ("unreadable", "u", "?"),
}


def keywords() -> dict[SheetOutcome, set[str]]:
    translated = {SheetOutcome.BLANK: _("blank"), SheetOutcome.SPOILED: _("spoiled"),
                  SheetOutcome.INVALID: _("unreadable")}
    return {outcome: {*words, translated[outcome].casefold()} for outcome, words in _KEYWORDS.items()}


@dataclass(frozen=True)
class Reading:
    """What a keyed line says about a sheet, checked against the ballot's rules."""

    outcome: SheetOutcome
    #: The marks as keyed (normalised by the rules when counted), by project.
    choices: tuple[Choice, ...] = ()
    reason: InvalidReason | None = None
    #: The rule broken, in plain words.
    message: str = ""

    @property
    def content(self) -> str:
        """The reading as text: two keyings agree exactly when their contents are equal."""
        if self.outcome in (SheetOutcome.BLANK, SheetOutcome.SPOILED):
            return self.outcome.value
        if self.reason == InvalidReason.UNREADABLE:
            return "unreadable"
        return "marks:" + ";".join(
            f"{c.proposal_id}" + (f"={c.points}" if c.points is not None else "") + (f"#{c.rank}" if c.rank else "")
            for c in sorted(self.choices, key=lambda c: (c.proposal_id, c.rank or 0, c.points or 0))
        )


def read_line(budget, projects: Sequence[BallotProposal], text: str | None) -> Reading:
    """Read one keyed line of a sheet of ``budget`` whose projects were printed as ``projects``
    (number n is ``projects[n - 1]``): a keyword (blank, spoiled, unreadable) or the projects'
    numbers in the kind's syntax, checked by the kind's rules.

    A line that cannot be read (a number not on the sheet, ``3=`` on a points ballot) raises
    :class:`InvalidBallot` on ``choices``: a typo, nothing is recorded.  A sheet that breaks the
    rules is a :class:`Reading` with outcome invalid and its reason: recorded, never dropped or cut.
    """
    line = (text or "").strip()
    word = line.casefold()
    for outcome, words in keywords().items():
        if word in words:
            reason = InvalidReason.UNREADABLE if outcome == SheetOutcome.INVALID else None
            message = _("The marks cannot be read.") if reason else ""
            return Reading(outcome, (), reason, message)
    kind = kind_of(budget)
    numbers = {number: p.id for number, p in enumerate(projects, start=1)}
    choices = kind.parse_paper(line, numbers)
    if not choices:
        raise InvalidInput(_("Type the numbers of the projects marked, or blank, spoiled or unreadable."),
                           field="choices")
    try:
        checked = kind.check_choices(budget, projects, choices)
    except InvalidBallot as error:
        marked = tuple(c for c in choices if c.points != 0)
        return Reading(SheetOutcome.INVALID, marked, InvalidReason(error.reason), error.message)
    return Reading(SheetOutcome.COUNTED, tuple(checked))


def reading_of(entry: PaperEntry) -> Reading:
    """An entry's reading again, from what it stored (to compare and show it)."""
    choices = []
    if entry.content.startswith("marks:") and entry.content != "marks:":
        for part in entry.content[len("marks:"):].split(";"):
            part, _sep, rank = part.partition("#")
            pid, _sep, points = part.partition("=")
            choices.append(Choice(int(pid), points=int(points) if points else None, rank=int(rank) if rank else None))
    return Reading(entry.outcome, tuple(choices), entry.reason, entry.message)


@dataclass(frozen=True)
class ReadBack:
    """A reading in words for a glance at the paper: the projects by their printed numbers."""

    reading: Reading
    lines: tuple[tuple[int, BallotProposal, Choice], ...]
    spent: int


def read_back(reading: Reading, projects: Sequence[BallotProposal], budget) -> ReadBack:
    number_of = {p.id: n for n, p in enumerate(projects, start=1)}
    by_id = {p.id: p for p in projects}
    ordered = kind_of(budget).receipt_order(
        sorted(reading.choices, key=lambda c: (c.rank or 0, number_of.get(c.proposal_id, 0)))
    )
    lines = tuple((number_of[c.proposal_id], by_id[c.proposal_id], c) for c in ordered if c.proposal_id in by_id)
    return ReadBack(reading, lines, spent_amount(projects, reading.choices))


# -- keying ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EntryResult:
    """What keying a sheet did."""

    entry: PaperEntry
    sheet: PaperSheet
    reading: Reading
    #: first, matched, referred, discrepancy, flagged, or replayed (the same form sent again).
    event: str


def _token_hash(author: User, token: str) -> str:
    return _keyed_hash("paper-entry", f"{author.id}:{token}")


def _entry_values(sheet: PaperSheet, author: User, text: str, reading: Reading, now: datetime) -> dict:
    return {
        "sheet_id": sheet.id, "session_id": sheet.session_id, "author_id": author.id, "keyed_at": now,
        "text": (text or "").strip()[:400], "content": reading.content[:1000], "outcome": reading.outcome,
        "reason": reading.reason, "message": reading.message[:300], "note": "",
    }


def active_keyings(sheet: PaperSheet) -> list[PaperEntry]:
    return list(db.session.scalars(
        sa.select(PaperEntry).where(PaperEntry.sheet_id == sheet.id, PaperEntry.state == EntryState.ACTIVE,
                                    PaperEntry.slot.is_not(None)).order_by(PaperEntry.slot)
    ))


def _flush_entry(entry: PaperEntry) -> None:
    db.session.add(entry)
    try:
        db.session.flush()
    except sa.exc.IntegrityError:
        # A unique index caught what the row lock should have: nothing of this request is kept.
        raise Conflict(_("This sheet was keyed by someone else at the same moment. Key it again."),
                       field="serial") from None


def record_paper_entry(author: User, session: PaperSession, serial_text: str | None, text: str | None,
                       token: str, now: datetime | None = None) -> EntryResult:
    """Record ``author``'s keying of the sheet ``serial_text`` at ``session``: the use case behind
    the entry screen's Enter.

    The first keying waits for a second one by another volunteer; the second settles the sheet when
    both say the same (a counted ballot through :func:`~pbvote.ballots.services.cast_paper_ballot`,
    or an invalid, blank or spoiled sheet, or — under the "refer" policy — a sheet for staff) and
    puts it in the discrepancy queue when they differ.  A volunteer keying a sheet they keyed
    before, or a sheet that has its two keyings, is recorded as flagged and matches nothing.  The
    same form sent twice (``token``) is one entry.
    """
    now = now or utcnow()
    check_works_at(author, session)
    check_open(session, now)
    if not isinstance(token, str) or not TOKEN_RE.match(token):
        raise InvalidInput(_("The form is incomplete. Reload the page and try again."))
    token_hash = _token_hash(author, token)
    sheet = sheet_of_session(session, serial_text, lock=True)
    replayed = db.session.scalar(sa.select(PaperEntry).where(PaperEntry.token_hash == token_hash))
    if replayed is not None:
        return EntryResult(replayed, replayed.sheet, reading_of(replayed), "replayed")
    projects = batch_projects(sheet.batch)
    reading = read_line(sheet.budget, projects, text)
    values = _entry_values(sheet, author, text, reading, now)
    keyings = active_keyings(sheet)
    flag = None
    if any(e.author_id == author.id for e in keyings):
        flag = EntryFlag.SAME_VOLUNTEER
    elif len(keyings) >= 2 or sheet.status not in (SheetStatus.UNKEYED, SheetStatus.KEYED_ONCE):
        flag = EntryFlag.EXTRA
    if flag is not None:
        entry = PaperEntry(state=EntryState.FLAGGED, flag=flag, slot=None, token_hash=token_hash, **values)
        _flush_entry(entry)
        audit.record("paper.entry.flagged", actor=author, subject=sheet, serial=sheet.serial, flag=flag.value)
        return EntryResult(entry, sheet, reading, "flagged")
    slot = 2 if any(e.slot == 1 for e in keyings) else 1
    entry = PaperEntry(state=EntryState.ACTIVE, slot=slot, token_hash=token_hash, **values)
    _flush_entry(entry)
    if not keyings:
        sheet.status, event = SheetStatus.KEYED_ONCE, "first"
    elif keyings[0].content == entry.content:
        event = _settle_matched(sheet, reading, author, projects, now)
    else:
        sheet.status, event = SheetStatus.DISCREPANCY, "discrepancy"
    audit.record("paper.entry.keyed", actor=author, subject=sheet, serial=sheet.serial, slot=slot, event=event)
    db.session.flush()
    return EntryResult(entry, sheet, reading, event)


def _settle(sheet: PaperSheet, reading: Reading, clerk: User, projects, now: datetime, status: SheetStatus) -> None:
    """Give ``sheet`` its outcome; a counted sheet becomes a ballot (channel paper, its serial)."""
    ballot_id = None
    if reading.outcome == SheetOutcome.COUNTED:
        ballot_id = cast_paper_ballot(sheet.budget, reading.choices, serial=sheet.serial, clerk=clerk,
                                      cast_at=sheet.session.starts_at, now=now, proposals=projects)
    sheet.status, sheet.outcome, sheet.reason = status, reading.outcome, reading.reason
    sheet.ballot_id, sheet.settled_at = ballot_id, now


def _settle_matched(sheet: PaperSheet, reading: Reading, clerk: User, projects, now: datetime) -> str:
    if reading.outcome == SheetOutcome.INVALID and paper_settings(sheet.session.cycle).invalid_policy == InvalidPolicy.REFER:
        sheet.status = SheetStatus.REFERRED
        return "referred"
    _settle(sheet, reading, clerk, projects, now, SheetStatus.MATCHED)
    return "matched"


def undo_entry(author: User, entry: PaperEntry, now: datetime | None = None) -> PaperSheet:
    """Withdraw ``author``'s own keying while its sheet is not settled (keyed once, or in the
    discrepancy queue); the entry stays, marked undone."""
    now = now or utcnow()
    if entry.author_id != author.id:
        raise NotAllowed(_("Only the volunteer who keyed an entry can undo it."))
    sheet = lock_sheet(entry.sheet_id)
    check_open(sheet.session, now)
    db.session.refresh(entry)
    if entry.state != EntryState.ACTIVE or entry.slot is None:
        raise Conflict(_("This entry cannot be undone: it is not one of the sheet's two keyings."))
    if sheet.status not in (SheetStatus.KEYED_ONCE, SheetStatus.DISCREPANCY):
        raise Conflict(_("Sheet %(serial)s is settled; only staff can correct it now.", serial=sheet.serial))
    entry.state, entry.undone_at = EntryState.UNDONE, now
    db.session.flush()
    remaining = active_keyings(sheet)
    sheet.status = SheetStatus.KEYED_ONCE if remaining else SheetStatus.UNKEYED
    audit.record("paper.entry.undone", actor=author, subject=sheet, serial=sheet.serial, entry_id=entry.id)
    db.session.flush()
    return sheet


# -- staff ----------------------------------------------------------------------------------------


def decide_sheet(actor: User, sheet: PaperSheet, text: str | None, note: str | None,
                 now: datetime | None = None) -> PaperSheet:
    """Staff record what the paper of ``sheet`` says, with why: a discrepancy or a referred sheet
    is settled by it, a settled sheet corrected (its ballot voided with who and why, and replaced).

    The reading follows the same rules as a volunteer's; staff's word is final, so a sheet that
    breaks the rules is invalid whatever the policy.  Refused once the results are published."""
    now = now or utcnow()
    if not actor.has_role(Role.STAFF):
        raise NotAllowed(_("Only staff decide what a sheet says."))
    note = (note or "").strip()
    if not note:
        raise InvalidInput(_("Say how you decided (for example: checked the paper, the 7 is a 1)."), field="note")
    sheet = lock_sheet(sheet.id)
    if results_published(sheet.session.cycle, now):
        raise PhaseClosed(_("The results are published: paper sheets can no longer change."))
    if sheet.status == SheetStatus.UNKEYED:
        raise Conflict(_("Sheet %(serial)s has not been keyed yet.", serial=sheet.serial))
    projects = batch_projects(sheet.batch)
    reading = read_line(sheet.budget, projects, text)
    correcting = sheet.is_final
    if correcting and sheet.outcome == reading.outcome and _settled_content(sheet) == reading.content:
        raise Conflict(_("The sheet already says this: nothing to correct."), field="choices")
    if sheet.ballot_id is not None:
        void_ballot(actor, db.session.get(Ballot, sheet.ballot_id),
                    _("Paper sheet %(serial)s corrected: %(note)s", serial=sheet.serial, note=note)[:200])
    entry = PaperEntry(state=EntryState.ACTIVE, slot=None, is_decision=True, **_entry_values(sheet, actor, text, reading, now))
    entry.note = note[:500]
    db.session.add(entry)
    _settle(sheet, reading, actor, projects, now, SheetStatus.DECIDED)
    sheet.decided_by_id, sheet.decision_note = actor.id, note[:500]
    audit.record("paper.sheet.corrected" if correcting else "paper.sheet.decided", actor=actor, subject=sheet,
                 serial=sheet.serial, outcome=reading.outcome.value, note=note[:500])
    db.session.flush()
    return sheet


def _settled_content(sheet: PaperSheet) -> str | None:
    """The content the sheet is settled on: its last decision's, else its matching keyings'."""
    entries = sheet_entries(sheet)
    decisions = [e for e in entries if e.is_decision]
    if decisions:
        return decisions[-1].content
    keyings = [e for e in entries if e.state == EntryState.ACTIVE and e.slot is not None]
    return keyings[0].content if keyings else None


# -- what the screens list ------------------------------------------------------------------------


def sheet_entries(sheet: PaperSheet) -> list[PaperEntry]:
    """Every entry of ``sheet``, oldest first (keyings, undone ones, flagged ones, decisions)."""
    return list(db.session.scalars(
        sa.select(PaperEntry).where(PaperEntry.sheet_id == sheet.id).order_by(PaperEntry.keyed_at, PaperEntry.id)
    ))


def recent_entries(author: User, session: PaperSession, limit: int = 8) -> list[PaperEntry]:
    """``author``'s latest entries at ``session`` (the entry screen's list, with undo)."""
    return list(db.session.scalars(
        sa.select(PaperEntry).where(PaperEntry.author_id == author.id, PaperEntry.session_id == session.id,
                                    PaperEntry.is_decision.is_(False))
        .options(joinedload(PaperEntry.sheet))
        .order_by(PaperEntry.id.desc()).limit(limit)
    ))


def flagged_entries(session: PaperSession) -> list[PaperEntry]:
    return list(db.session.scalars(
        sa.select(PaperEntry).where(PaperEntry.session_id == session.id, PaperEntry.state == EntryState.FLAGGED)
        .order_by(PaperEntry.id.desc())
    ))


def sheets_for_staff(cycle_id: int) -> list[PaperSheet]:
    """The discrepancy queue of a cycle: sheets whose keyings differ, and sheets referred to staff."""
    return list(db.session.scalars(
        sa.select(PaperSheet).join(PaperSession, PaperSession.id == PaperSheet.session_id)
        .where(PaperSession.cycle_id == cycle_id,
               PaperSheet.status.in_([SheetStatus.DISCREPANCY, SheetStatus.REFERRED]))
        .order_by(PaperSheet.session_id, PaperSheet.serial)
    ))
