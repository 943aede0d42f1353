"""Receipts and tracking codes: a ballot found by its tracking code, its state, the public list of
counted ballots' fingerprints, and voiding a ballot reported by its receipt."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask_babel import gettext as _

from pbvote import audit
from pbvote.auth.models import User
from pbvote.ballots.models import Ballot, BallotChannel, Participation
from pbvote.ballots.services.keys import normalize_code, tracking_hash
from pbvote.cycles.models import Budget, Cycle, PhaseKind
from pbvote.errors import Conflict, InvalidInput, PhaseClosed
from pbvote.extensions import db
from pbvote.timeutil import utcnow

def void_ballot(actor: User, ballot: Ballot, reason: str) -> Ballot:
    """Mark ``ballot`` void (never counted) with who and why.  The contents stay as they were.

    Refused once the cycle's results are published: a published count is never changed in silence.
    """
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_("Say why the ballot is void."), field="reason")
    if ballot.voided_at is not None:
        raise Conflict(_("This ballot is already void."))
    if results_published(ballot.budget.cycle):
        raise PhaseClosed(_("The results are published: ballots can no longer be voided."))
    with db.session.no_autoflush:  # the three together: a void always has its reason
        ballot.voided_at, ballot.voided_by_id, ballot.void_reason = utcnow(), actor.id, reason[:200]
    audit.record("ballot.voided", actor=actor, subject=ballot, reason=ballot.void_reason)
    db.session.flush()
    return ballot


def void_ballot_by_tracking_code(actor: User, cycle: Cycle, code: str, reason: str) -> Ballot:
    """Void the ballot of ``cycle`` whose receipt carries ``code`` (as the voter or a clerk reads it).

    How staff act on a report ("this ballot was cast under pressure", "my code was stolen") without
    ever seeing who voted for what: the tracking code identifies the ballot, not its voter.
    """
    ballot = ballot_by_tracking_code(code) if normalize_code(code) else None
    if ballot is None or ballot.budget.cycle_id != cycle.id:
        raise InvalidInput(_("No ballot of this cycle has that tracking code."), field="code")
    return void_ballot(actor, ballot, reason)


@dataclass(frozen=True)
class VoidedBallot:
    """A void ballot as staff see it: where, when, by whom and why, never what it contained."""

    budget_name: str
    channel: BallotChannel
    voided_at: datetime
    voided_by: str | None
    reason: str


def voided_ballots(cycle: Cycle) -> list[VoidedBallot]:
    """The cycle's void ballots, newest first (the accountability list on the void page)."""
    rows = db.session.execute(
        sa.select(Budget.name, Ballot.channel, Ballot.voided_at, User.display_name, Ballot.void_reason)
        .join(Budget, Budget.id == Ballot.budget_id)
        .outerjoin(User, User.id == Ballot.voided_by_id)
        .where(Budget.cycle_id == cycle.id, Ballot.voided_at.is_not(None))
        .order_by(Ballot.voided_at.desc(), Ballot.id.desc())
    ).all()
    return [VoidedBallot(name, BallotChannel(channel), at, by, reason or "") for name, channel, at, by, reason in rows]


def ballot_by_tracking_code(code: str) -> Ballot | None:
    return db.session.scalar(sa.select(Ballot).where(Ballot.tracking_hash == tracking_hash(code)))


def check_tracking_code(code: str) -> dict:
    """What "Check your ballot" may tell anyone who holds a tracking code: whether that ballot is
    counted (``counted``, ``superseded``, ``void`` or ``unknown``), in which budget of which cycle,
    and the code's first group to recognise it by.  Never its choices, never its voter, and nothing
    more after the results than during the vote, except the fingerprint by which the ballot appears
    in the public list of counted ballots once that is published.  Plain values: the view keeps the answer in the
    session to show it after a redirect."""
    bare = normalize_code(code)
    ballot = ballot_by_tracking_code(bare) if bare else None
    answer = {"code": bare[:4], "state": "unknown"}
    if ballot is not None:
        budget = ballot.budget
        answer.update(
            state=ballot_state(ballot),
            budget=budget.name,
            cycle=budget.cycle.name,
            cycle_slug=budget.cycle.slug,
            voting_open=budget.cycle.is_in(PhaseKind.VOTING),
        )
        if answer["state"] == "counted" and results_published(budget.cycle):
            # the same fingerprint the public list of counted ballots shows, to find it there
            answer["fingerprint"] = ballot.tracking_hash
    return answer


@dataclass(frozen=True)
class Participated:
    """That an account took part in a budget (from the participation, never from the ballot)."""

    budget: Budget
    channel: BallotChannel
    at: datetime


def participations_of(user: User) -> list[Participated]:
    """Where ``user`` voted, newest first: what "My votes" can say without any tracking code."""
    rows = db.session.execute(
        sa.select(Budget, Participation.channel, Participation.created_at)
        .join(Budget, Budget.id == Participation.budget_id)
        .where(Participation.user_id == user.id)
        .order_by(Participation.created_at.desc(), Participation.id.desc())
    ).all()
    return [Participated(budget, BallotChannel(channel), at) for budget, channel, at in rows]


def results_published(cycle: Cycle, now: datetime | None = None) -> bool:
    phase = cycle.phase(PhaseKind.RESULTS)
    return phase is not None and phase.starts_at <= (now or utcnow())


def published_tracking_hashes(cycle: Cycle, now: datetime | None = None) -> dict[Budget, list[str]]:
    """Per budget, the sorted tracking hashes of the counted ballots (only once results are out)."""
    if not results_published(cycle, now):
        raise PhaseClosed(_("The list of counted ballots is published with the results."))
    rows = db.session.execute(
        sa.select(Ballot.budget_id, Ballot.tracking_hash)
        .where(
            Ballot.budget_id.in_([b.id for b in cycle.budgets]),
            Ballot.superseded_at.is_(None),
            Ballot.voided_at.is_(None),
            Ballot.tracking_hash.is_not(None),
        )
        .order_by(Ballot.tracking_hash)
    ).all()
    out: dict[Budget, list[str]] = {budget: [] for budget in cycle.budgets}
    by_id = {b.id: b for b in cycle.budgets}
    for budget_id, digest in rows:
        out[by_id[budget_id]].append(digest)
    return out


def ballot_state(ballot: Ballot) -> str:
    """``counted``, ``superseded`` or ``void``."""
    if ballot.voided_at is not None:
        return "void"
    if ballot.superseded_at is not None:
        return "superseded"
    return "counted"
