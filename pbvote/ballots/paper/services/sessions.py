"""Community sessions and a cycle's paper settings: who works at a session, when and where it is,
which budgets it offers, and the invalid-ballot policy in plain words."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import sqlalchemy as sa
from flask_babel import gettext as _

from pbvote import audit
from pbvote.auth.models import Role, User
from pbvote.ballots.paper.models import (
    InvalidPolicy,
    PaperEntry,
    PaperSession,
    PaperSettings,
    PaperSheet,
    paper_session_volunteers,
)
from pbvote.ballots.services.receipts import results_published
from pbvote.cycles.models import Budget, Cycle, PhaseKind
from pbvote.errors import Conflict, InvalidInput, NotAllowed, PhaseClosed, RulesFrozen
from pbvote.extensions import db
from pbvote.templating import datetime_format
from pbvote.timeutil import utcnow

#: Roles whose accounts can be assigned to a session (they hold the volunteer's abilities).
VOLUNTEER_ROLES = (Role.VOLUNTEER, Role.STAFF, Role.ADMIN)


# -- settings -------------------------------------------------------------------------------------


def paper_settings(cycle: Cycle) -> PaperSettings:
    """The cycle's paper settings (the defaults, not stored, until staff save them)."""
    found = db.session.get(PaperSettings, cycle.id)
    if found is not None:
        return found
    return PaperSettings(cycle_id=cycle.id, invalid_policy=InvalidPolicy.INVALID, policy_note="", walk_ins=False)


def paper_started(cycle: Cycle) -> bool:
    """True once a sheet of the cycle has been keyed: the policy printed and applied is then fixed."""
    return db.session.scalar(
        sa.select(PaperEntry.id).join(PaperSession, PaperSession.id == PaperEntry.session_id)
        .where(PaperSession.cycle_id == cycle.id).limit(1)
    ) is not None


def save_settings(actor: User, cycle: Cycle, *, invalid_policy: InvalidPolicy, policy_note: str,
                  walk_ins: bool) -> PaperSettings:
    """Set the cycle's invalid-ballot policy (and its note) and whether walk-ins may vote.

    The policy is what volunteers apply and voters read on the sheet: it cannot change once a sheet
    has been keyed (:class:`RulesFrozen`); walk-ins can still be switched."""
    note = (policy_note or "").strip()
    if len(note) > 500:
        raise InvalidInput(_("Keep the note under 500 characters."), field="policy_note")
    settings = paper_settings(cycle)
    changed_policy = settings.invalid_policy != invalid_policy or (settings.policy_note or "") != note
    if changed_policy and paper_started(cycle):
        raise RulesFrozen(_("Paper ballots of this cycle have been keyed: the invalid-ballot policy can no longer "
                            "change."), field="invalid_policy")
    if settings not in db.session:
        db.session.add(settings)
    settings.invalid_policy, settings.policy_note, settings.walk_ins = invalid_policy, note, bool(walk_ins)
    settings.updated_at, settings.updated_by_id = utcnow(), actor.id
    audit.record("paper.settings", actor=actor, subject=cycle, invalid_policy=invalid_policy.value,
                 walk_ins=bool(walk_ins))
    db.session.flush()
    return settings


def policy_rules(settings: PaperSettings) -> list[str]:
    """The invalid-ballot policy in plain words, one sentence each (on the sheet and the entry screen)."""
    if settings.invalid_policy == InvalidPolicy.REFER:
        words = [_("A ballot that breaks a rule — for example over the budget, or with too many projects marked — "
                   "is set aside for the council's staff, who check the paper. It counts only as a whole, never "
                   "in part; if it breaks a rule it is invalid.")]
    else:
        words = [_("A ballot that breaks a rule — for example over the budget, or with too many projects marked — "
                   "is invalid as a whole: none of its marks count.")]
    words.append(_("A ballot that cannot be read is invalid; a ballot with no mark is counted as blank."))
    if settings.policy_note:
        words.append(settings.policy_note)
    return words


# -- sessions -------------------------------------------------------------------------------------


def volunteer_candidates() -> list[User]:
    """Active accounts that can be assigned to a session, by name."""
    return list(db.session.scalars(
        sa.select(User).where(User.role.in_(VOLUNTEER_ROLES), User.is_active_account.is_(True))
        .order_by(User.display_name, User.id)
    ))


def _check_details(cycle: Cycle, place: str, starts_at: datetime | None, ends_at: datetime | None,
                   budgets: Iterable[Budget], volunteers: Iterable[User]) -> tuple[str, list[Budget], list[User]]:
    place = (place or "").strip()
    if not place:
        raise InvalidInput(_("Name the place of the session."), field="place")
    if starts_at is None or ends_at is None or starts_at >= ends_at:
        raise InvalidInput(_("The session must end after it starts."), field="ends_at")
    voting = cycle.phase(PhaseKind.VOTING)
    if voting is None:
        raise InvalidInput(_("Give the cycle a voting phase first: sessions take place while voting is open."),
                           field="starts_at")
    if starts_at < voting.starts_at or ends_at > voting.ends_at:
        raise InvalidInput(_("A session takes place while voting is open: between %(start)s and %(end)s.",
                             start=datetime_format(voting.starts_at, "medium", cycle),
                             end=datetime_format(voting.ends_at, "medium", cycle)), field="starts_at")
    budgets = list(dict.fromkeys(budgets))
    if not budgets:
        raise InvalidInput(_("Offer at least one budget at the session."), field="budgets")
    if any(b.cycle_id != cycle.id for b in budgets):
        raise InvalidInput(_("Choose budgets of this cycle."), field="budgets")
    volunteers = list(dict.fromkeys(volunteers))
    if any(not v.has_role(Role.VOLUNTEER) or not v.is_active for v in volunteers):
        raise InvalidInput(_("Only active volunteers (or staff) can work at a session."), field="volunteers")
    return place, budgets, volunteers


def create_session(actor: User, cycle: Cycle, *, place: str, address: str = "", starts_at: datetime | None,
                   ends_at: datetime | None, notes: str = "", budgets: Iterable[Budget],
                   volunteers: Iterable[User] = (), now: datetime | None = None) -> PaperSession:
    """Plan a community session of ``cycle``: where, when (within the voting phase), the budgets
    offered and the volunteers assigned."""
    if results_published(cycle, now):
        raise PhaseClosed(_("The results of this cycle are published: no more sessions."))
    place, budgets, volunteers = _check_details(cycle, place, starts_at, ends_at, budgets, volunteers)
    session = PaperSession(cycle=cycle, place=place, address=(address or "").strip(), starts_at=starts_at,
                           ends_at=ends_at, notes=(notes or "").strip(), created_by_id=actor.id, close_note="")
    session.budgets, session.volunteers = budgets, volunteers
    db.session.add(session)
    db.session.flush()
    audit.record("paper.session.created", actor=actor, subject=session, place=place,
                 budgets=[b.id for b in budgets], volunteers=[v.id for v in volunteers])
    db.session.flush()
    return session


def update_session(actor: User, session: PaperSession, *, place: str, address: str = "",
                   starts_at: datetime | None, ends_at: datetime | None, notes: str = "",
                   budgets: Iterable[Budget], volunteers: Iterable[User] = ()) -> PaperSession:
    """Change a session's details, budgets and volunteers; a budget that has sheets stays."""
    if session.is_closed:
        raise Conflict(_("This session is closed. Reopen it to change it."))
    place, budgets, volunteers = _check_details(session.cycle, place, starts_at, ends_at, budgets, volunteers)
    with_sheets = set(db.session.scalars(
        sa.select(PaperSheet.budget_id).where(PaperSheet.session_id == session.id).distinct()
    ))
    kept = {b.id for b in budgets}
    if with_sheets - kept:
        raise InvalidInput(_("A budget whose sheets were printed for this session cannot be removed from it."),
                           field="budgets")
    session.place, session.address, session.notes = place, (address or "").strip(), (notes or "").strip()
    session.starts_at, session.ends_at = starts_at, ends_at
    session.budgets, session.volunteers = budgets, volunteers
    audit.record("paper.session.updated", actor=actor, subject=session, place=place,
                 budgets=sorted(kept), volunteers=[v.id for v in volunteers])
    db.session.flush()
    return session


def can_work_at(user: User, session: PaperSession) -> bool:
    """Staff work at every session; a volunteer only at the sessions they are assigned to."""
    if user is None or not user.is_authenticated:
        return False
    if user.has_role(Role.STAFF):
        return True
    assigned = paper_session_volunteers.c
    return user.has_role(Role.VOLUNTEER) and db.session.scalar(
        sa.select(assigned.user_id).where(assigned.session_id == session.id, assigned.user_id == user.id)
    ) is not None


def check_works_at(user: User, session: PaperSession) -> None:
    """Raise :class:`NotAllowed` (403) unless ``user`` may work at ``session``."""
    if not can_work_at(user, session):
        raise NotAllowed(_("You are not a volunteer of this session."))


def check_open(session: PaperSession, now: datetime | None = None) -> None:
    """Keying, registering and printing need an open session of a cycle whose results are not out
    (at ``now``)."""
    if session.is_closed:
        raise PhaseClosed(_("This session is closed."))
    if results_published(session.cycle, now):
        raise PhaseClosed(_("The results of this cycle are published: paper ballots can no longer be recorded."))


def sessions_for(user: User, cycle: Cycle | None = None) -> list[PaperSession]:
    """The sessions ``user`` works at (every session for staff), newest first."""
    statement = sa.select(PaperSession).order_by(PaperSession.starts_at.desc(), PaperSession.id.desc())
    if cycle is not None:
        statement = statement.where(PaperSession.cycle_id == cycle.id)
    if not user.has_role(Role.STAFF):
        statement = statement.where(PaperSession.volunteers.any(User.id == user.id))
    return list(db.session.scalars(statement))
