"""The session's voter register: one person, one ballot across paper, kiosk and online.

A volunteer registers each voter before handing out sheets (or a kiosk code): by the access code on
their letter (which is then marked used for those budgets), by their account, or — where the cycle
allows it — as a walk-in.  For a code or an account the register writes the same
:class:`~pbvote.ballots.models.Participation` row an online ballot writes (channel paper or kiosk),
so the database's ``UNIQUE (budget, voter)`` refuses the double vote in both directions: no sheet
for someone who voted online, no online ballot for someone who took a sheet.  Each refusal is a
:class:`~pbvote.ballots.paper.models.PaperConflict` that staff review.  Nothing links a person to
the sheet they took.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask_babel import gettext as _

from pbvote import audit, unit_of_work
from pbvote.auth.models import Role, User
from pbvote.ballots.models import AccessCode, AccessCodeBatch, Ballot, BallotChannel, Participation
from pbvote.ballots.paper.models import (
    ConflictKind,
    PaperConflict,
    PaperSession,
    RegisterBudget,
    RegisterEntry,
    RegisterMethod,
)
from pbvote.ballots.paper.services.sessions import check_open, check_works_at, paper_settings
from pbvote.ballots.services.access_codes import find_access_code, open_kiosk
from pbvote.ballots.services.casting import lock_voter, refused_other_channel
from pbvote.ballots.services.eligibility import check_eligible, check_voting_open
from pbvote.ballots.services.keys import LOOKUP_LENGTH, hash_access_code, random_code
from pbvote.ballots.services.voters import Voter
from pbvote.cycles.models import Budget, Cycle
from pbvote.places.models import District
from pbvote.errors import Conflict, InvalidInput, NotAllowed, PhaseClosed
from pbvote.extensions import db
from pbvote.templating import datetime_format
from pbvote.timeutil import utcnow

#: A participation unless the voter already has one in the budget (the same statement on SQLite and
#: PostgreSQL); no row back means the database refused a second one.
_INSERT_PARTICIPATION = sa.text(
    "INSERT INTO participations (budget_id, user_id, access_code_id, channel, created_at) "
    "VALUES (:budget_id, :user_id, :access_code_id, :channel, :created_at) "
    "ON CONFLICT DO NOTHING RETURNING id"
).bindparams(sa.bindparam("created_at", type_=sa.DateTime())).columns(id=sa.Integer)

#: The most accounts a look-up lists.
LOOKUP_LIMIT = 10


@dataclass(frozen=True)
class BudgetDecision:
    """One budget of the session for one voter: handed out, or why not."""

    budget: Budget
    refusal: str | None = None
    conflict: PaperConflict | None = None

    @property
    def handed(self) -> bool:
        return self.refusal is None


@dataclass(frozen=True)
class Registration:
    entry: RegisterEntry | None
    decisions: list[BudgetDecision]
    #: The kiosk voter's single-use code, in clear: shown to the volunteer once, never stored.
    kiosk_code: str | None = None

    @property
    def handed(self) -> list[Budget]:
        return [d.budget for d in self.decisions if d.handed]


def find_residents(query: str | None) -> list[User]:
    """Accounts matching what a volunteer typed: an e-mail address, or part of a name."""
    text = (query or "").strip()
    if len(text) < 2:
        raise InvalidInput(_("Type at least two letters of the name, or the e-mail address."), field="query")
    pattern = "%" + text.casefold().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return list(db.session.scalars(
        sa.select(User).where(
            User.is_active_account.is_(True),
            sa.or_(sa.func.lower(User.email) == text.casefold(),
                   sa.func.lower(User.display_name).like(pattern, escape="\\")),
        ).order_by(User.display_name, User.id).limit(LOOKUP_LIMIT)
    ))


def _took_part_message(channel: BallotChannel, at: datetime, cycle) -> str:
    day = datetime_format(at, "date", cycle)
    return {
        BallotChannel.ONLINE: _("Already voted in this budget online (%(day)s): no sheet.", day=day),
        BallotChannel.KIOSK: _("Already voted in this budget at a kiosk (%(day)s): no sheet.", day=day),
        BallotChannel.PAPER: _("Already took a paper ballot for this budget (%(day)s): no sheet.", day=day),
    }[channel]


def _participation(voter: Voter, budget: Budget) -> Participation | None:
    filter_ = (Participation.user_id == voter.user.id if voter.user is not None
               else Participation.access_code_id == voter.code.id)
    return db.session.scalar(sa.select(Participation).where(Participation.budget_id == budget.id, filter_))


def _conflict(kind: ConflictKind, budget, session_id: int | None, voter: Voter, first: BallotChannel,
              attempted: BallotChannel, detected_by: User | None, now: datetime) -> PaperConflict:
    conflict = PaperConflict(
        cycle_id=budget.cycle_id, budget_id=budget.id, session_id=session_id, kind=kind, first_channel=first,
        attempted_channel=attempted, user_id=voter.user.id if voter.user is not None else None,
        access_code_id=voter.code.id if voter.code is not None else None, detected_at=now,
        detected_by_id=detected_by.id if detected_by is not None else None, review_note="",
    )
    db.session.add(conflict)
    return conflict


def _kiosk_target(handed: list[Budget]) -> tuple[Budget | None, District | None]:
    """What one access code can open of ``handed``: a district (its budget and the city-wide ones)
    when a district budget is among them, else the one budget."""
    district_budgets = [b for b in handed if b.district_id is not None]
    if district_budgets:
        return None, district_budgets[0].district
    return handed[0], None


def _reaches(budget: Budget, target: tuple[Budget | None, District | None]) -> bool:
    one, district = target
    if one is not None:
        return budget.id == one.id
    return budget.district_id is None or budget.district_id == district.id


def _issue_kiosk_code(session: PaperSession, target, now: datetime) -> tuple[AccessCode, str]:
    """One fresh single-use code for the session's kiosk, in the session's kiosk batch for ``target``."""
    one, district = target
    same_target = AccessCodeBatch.budget_id == one.id if one is not None else AccessCodeBatch.district_id == district.id
    batch = db.session.scalar(
        sa.select(AccessCodeBatch).join(AccessCode, AccessCode.batch_id == AccessCodeBatch.id)
        .join(RegisterEntry, RegisterEntry.kiosk_code_id == AccessCode.id)
        .where(RegisterEntry.session_id == session.id, AccessCodeBatch.voided_at.is_(None), same_target)
        .limit(1)
    )
    if batch is None:
        batch = AccessCodeBatch(cycle_id=session.cycle_id, budget_id=one.id if one is not None else None,
                                district_id=district.id if district is not None else None, size=1,
                                label=_("Kiosk at %(place)s (session %(id)d)", place=session.place, id=session.id)[:120],
                                created_at=now)
        db.session.add(batch)
        db.session.flush()
    else:
        batch.size += 1
    clear = random_code()
    digest = hash_access_code(clear)
    code = AccessCode(batch_id=batch.id, lookup=digest[:LOOKUP_LENGTH], code_hash=digest)
    db.session.add(code)
    db.session.flush()
    return code, clear


def register_voter(actor: User, session: PaperSession, *, method: RegisterMethod, channel: BallotChannel,
                   code_text: str | None = None, user: User | None = None, district: District | None = None,
                   now: datetime | None = None) -> Registration:
    """Register one voter at ``session`` for a paper ballot or the session's kiosk.

    Each budget the session offers is handed out when the voter may vote in it (the cycle's
    eligibility) and has not taken part in it yet; otherwise the decision says why, and a voter who
    took part already is a conflict for staff.  For a kiosk voter the register issues a single-use
    access code (shown once).  ``district``: a walk-in's home district (their district's budget
    and the city-wide ones; none: city-wide only).
    """
    now = now or utcnow()
    check_works_at(actor, session)
    check_open(session, now)
    cycle = session.cycle
    check_voting_open(cycle, now)
    if channel not in (BallotChannel.PAPER, BallotChannel.KIOSK):
        raise InvalidInput(_("Register voters for paper or for the kiosk."), field="channel")
    if channel == BallotChannel.KIOSK and not cycle.access_codes_enabled:
        raise InvalidInput(_("This cycle does not accept access codes, so its kiosk cannot be used."), field="channel")
    voter = _voter(session, method, channel, code_text, user)
    decisions = []
    for budget in session.budgets:
        decisions.append(_decide(actor, session, voter, budget, channel, district, now))
    handed = [d.budget for d in decisions if d.handed]
    target = _kiosk_target(handed) if channel == BallotChannel.KIOSK and handed else None
    if target is not None:
        decisions = [d if not d.handed or _reaches(d.budget, target) else
                     BudgetDecision(d.budget, _("One kiosk code cannot open this budget too: hand out a paper sheet."))
                     for d in decisions]
        handed = [d.budget for d in decisions if d.handed]
    if not handed:
        db.session.flush()
        return Registration(None, decisions)
    entry = RegisterEntry(session_id=session.id, method=method, channel=channel,
                          user_id=voter.user.id if voter and voter.user is not None else None,
                          access_code_id=voter.code.id if voter and voter.code is not None else None,
                          registered_by_id=actor.id, registered_at=now)
    db.session.add(entry)
    for budget in handed:
        participation_id = None
        if voter is not None:
            participation_id = db.session.connection().scalar(_INSERT_PARTICIPATION, {
                "budget_id": budget.id, "user_id": entry.user_id, "access_code_id": entry.access_code_id,
                "channel": channel.value, "created_at": now})
            if participation_id is None:  # the database refused a second participation (cannot happen under the lock)
                raise Conflict(_("This voter was registered somewhere else at the same moment. Look them up again."))
        entry.budgets.append(RegisterBudget(budget_id=budget.id, participation_id=participation_id))
    clear = None
    if target is not None:
        code, clear = _issue_kiosk_code(session, target, now)
        entry.kiosk_code_id = code.id
    db.session.flush()
    audit.record("paper.register", actor=actor, subject=session, method=method.value, channel=channel.value,
                 budgets=[b.id for b in handed], entry_id=entry.id)
    db.session.flush()
    return Registration(entry, decisions, clear)


def _voter(session: PaperSession, method: RegisterMethod, channel: BallotChannel, code_text, user) -> Voter | None:
    """The voter under their row lock (casts of the same voter wait for this registration), or None for a walk-in."""
    if method == RegisterMethod.ACCESS_CODE:
        if channel == BallotChannel.KIOSK:
            raise InvalidInput(_("At the kiosk the voter types the code from their letter themselves: "
                                 "nothing to register."), field="code")
        code = find_access_code(code_text or "", lock=True)
        if code is None:
            raise InvalidInput(_("We do not recognise this code. Check it and try again."), field="code")
        if code.is_void:
            raise InvalidInput(_("This access code has been cancelled."), field="code")
        if code.redeemed_at is not None:
            raise InvalidInput(_("This access code was added to an account: look the resident up by name."),
                               field="code")
        if code.batch.cycle_id != session.cycle_id:
            raise InvalidInput(_("This access code is for another budget cycle."), field="code")
        return Voter(code=code, locked=True)
    if method == RegisterMethod.ACCOUNT:
        if user is None or not user.is_active:
            raise InvalidInput(_("Look the resident up again."), field="query")
        voter = Voter(user=user)
        lock_voter(voter)
        return voter
    if not paper_settings(session.cycle).walk_ins:
        raise NotAllowed(_("This cycle does not accept walk-ins: register voters by their letter's code or their account."))
    return None


def _decide(actor, session, voter: Voter | None, budget: Budget, channel, district, now) -> BudgetDecision:
    if voter is None:  # a walk-in: the city-wide budgets and their own district's
        if budget.district_id is not None and (district is None or budget.district_id != district.id):
            return BudgetDecision(budget, _("Not the voter's district."))
        return BudgetDecision(budget)
    try:
        check_eligible(voter, budget, now)
    except (NotAllowed, PhaseClosed) as error:
        return BudgetDecision(budget, error.message)
    earlier = _participation(voter, budget)
    if earlier is None:
        return BudgetDecision(budget)
    conflict = _conflict(ConflictKind.VOTED_BEFORE, budget, session.id, voter, earlier.channel, channel, actor, now)
    audit.record("paper.conflict", actor=actor, subject=session, budget_id=budget.id, kind="voted_before",
                 first_channel=earlier.channel.value)
    return BudgetDecision(budget, _took_part_message(earlier.channel, earlier.created_at, budget.cycle), conflict)


def undo_registration(actor: User, entry: RegisterEntry, now: datetime | None = None) -> RegisterEntry:
    """Take back a registration made by mistake (its author or staff), while the session is open:
    the voter's participations go, and an unused kiosk code is cancelled.  Refused once the kiosk
    code has voted."""
    now = now or utcnow()
    session = db.session.get(PaperSession, entry.session_id)
    if entry.registered_by_id != actor.id and not actor.has_role(Role.STAFF):
        raise NotAllowed(_("Only the volunteer who registered a voter (or staff) can take it back."))
    check_open(session, now)
    if entry.undone_at is not None:
        raise Conflict(_("This registration was already taken back."))
    if entry.user_id is not None:
        lock_voter(Voter(user=db.session.get(User, entry.user_id)))
    elif entry.access_code_id is not None:
        find_locked = sa.select(AccessCode).where(AccessCode.id == entry.access_code_id).with_for_update(of=AccessCode)
        db.session.execute(find_locked)
    if entry.kiosk_code_id is not None:
        code = db.session.scalar(sa.select(AccessCode).where(AccessCode.id == entry.kiosk_code_id)
                                 .with_for_update(of=AccessCode))
        used = db.session.scalar(sa.select(Participation.id).where(Participation.access_code_id == code.id).limit(1))
        if used is not None:
            raise Conflict(_("The kiosk code of this registration has been used to vote: it cannot be taken back."))
        code.voided_at, code.voided_by_id, code.void_reason = now, actor.id, _("Registration taken back")[:200]
    ids = [rb.participation_id for rb in entry.budgets if rb.participation_id is not None]
    if ids:
        linked = db.session.scalar(sa.select(Ballot.id).where(Ballot.participation_id.in_(ids)).limit(1))
        if linked is not None:
            raise Conflict(_("This voter has cast a ballot since: the registration cannot be taken back."))
        for rb in entry.budgets:
            rb.participation_id = None
        db.session.flush()
        db.session.execute(sa.delete(Participation).where(Participation.id.in_(ids)))
    entry.undone_at = now
    audit.record("paper.register.undone", actor=actor, subject=session, entry_id=entry.id)
    db.session.flush()
    return entry


def open_session_kiosk(actor: User, session: PaperSession) -> None:
    """Record that ``actor`` turned a device into ``session``'s voting kiosk (the browser session is
    the view's)."""
    check_works_at(actor, session)
    check_open(session)
    if not session.cycle.access_codes_enabled:
        raise InvalidInput(_("This cycle does not accept access codes, so its kiosk cannot be used."))
    open_kiosk(actor, session.cycle)
    audit.record("paper.kiosk.opened", actor=actor, subject=session)
    db.session.flush()


def session_register(session: PaperSession, limit: int = 20) -> list[RegisterEntry]:
    return list(db.session.scalars(
        sa.select(RegisterEntry).where(RegisterEntry.session_id == session.id)
        .order_by(RegisterEntry.id.desc()).limit(limit)
    ))


def register_counts(session: PaperSession) -> dict[tuple[int, BallotChannel], int]:
    """Voters registered at ``session`` (not taken back), by budget and channel."""
    rows = db.session.execute(
        sa.select(RegisterBudget.budget_id, RegisterEntry.channel, sa.func.count())
        .join(RegisterEntry, RegisterEntry.id == RegisterBudget.entry_id)
        .where(RegisterEntry.session_id == session.id, RegisterEntry.undone_at.is_(None))
        .group_by(RegisterBudget.budget_id, RegisterEntry.channel)
    ).all()
    return {(budget_id, channel): count for budget_id, channel, count in rows}


# -- conflicts ------------------------------------------------------------------------------------


@refused_other_channel.connect
def _online_after_register(budget, *, voter: Voter, participation_id: int, took_part: BallotChannel,
                           attempted: BallotChannel, **_kwargs) -> None:
    """A cast refused because the voter was registered at a session: list it for staff.  The refused
    request rolls back, so it keeps just this row (nothing else was written before the refusal)."""
    session_id = db.session.scalar(
        sa.select(RegisterEntry.session_id).join(RegisterBudget, RegisterBudget.entry_id == RegisterEntry.id)
        .where(RegisterBudget.participation_id == participation_id)
    )
    if session_id is None:
        return
    _conflict(ConflictKind.VOTED_AFTER, budget, session_id, voter, took_part, attempted, None, utcnow())
    db.session.flush()
    unit_of_work.keep_changes()


def cycle_conflicts(cycle: Cycle) -> list[PaperConflict]:
    """The cycle's conflicts, those not reviewed yet first, newest first."""
    return list(db.session.scalars(
        sa.select(PaperConflict).where(PaperConflict.cycle_id == cycle.id)
        .order_by(PaperConflict.reviewed_at.is_not(None), PaperConflict.detected_at.desc(), PaperConflict.id.desc())
    ))


def review_conflict(actor: User, conflict: PaperConflict, note: str | None, now: datetime | None = None) -> PaperConflict:
    """Staff note what they did about a conflict (called the resident, voided a ballot...)."""
    note = (note or "").strip()
    if not note:
        raise InvalidInput(_("Say what was done."), field="note")
    if conflict.reviewed_at is not None:
        raise Conflict(_("This conflict has been reviewed already."))
    conflict.reviewed_at, conflict.reviewed_by_id, conflict.review_note = now or utcnow(), actor.id, note[:500]
    audit.record("paper.conflict.reviewed", actor=actor, subject=conflict, note=note[:500])
    db.session.flush()
    return conflict
