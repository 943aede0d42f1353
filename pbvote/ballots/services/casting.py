"""Casting a ballot: one entry point, :func:`cast`, exactly once per voter whatever arrives twice.

Exactly once, in three layers (see also :mod:`pbvote.ballots.models`):

1. the cast locks the voter's row (``SELECT ... FOR UPDATE`` on the account or the access code on
   PostgreSQL; on SQLite every write transaction begins ``IMMEDIATE``, which serialises writers);
2. under that lock it looks for the form's submission (a retry gets the original receipt), then for
   the voter's participation and live ballot (superseded if the cycle allows changing one's vote,
   otherwise a :class:`~pbvote.errors.Conflict`);
3. the database refuses a second participation per voter and budget and a second live ballot per
   participation (unique constraints), whatever the code above gets wrong.

How the rows are read and written is the job of the ballot store chosen when the app starts
(:mod:`pbvote.ballots.services.stores`): the portable one (SQLAlchemy Core statements, any database)
or PostgreSQL's, which writes a voter's first ballot in one statement and casts an access code's
first ballot outside any transaction.  Both make the same checks and store the same rows; the
tests run both.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import sqlalchemy as sa
from blinker import Namespace
from flask import abort, current_app
from flask_babel import gettext as _
from sqlalchemy.orm import attributes, joinedload

from pbvote.auth.models import User
from pbvote.ballots.choices import BallotProposal, Choice
from pbvote.ballots.models import AccessCode, Ballot, BallotChannel, Participation
from pbvote.ballots.services.content import ballot_snapshot, check_choices
from pbvote.ballots.services.eligibility import check_eligible
from pbvote.ballots.services.keys import (
    TOKEN_RE,
    TRACKING_CODE_LENGTH,
    _code_from_digest,
    _key,
    _keyed_hash,
    tracking_hash,
)
from pbvote.ballots.services.voters import Voter, _voter_filter, lock_code_voter
from pbvote.cycles.models import Budget, Cycle
from pbvote.errors import Conflict, InvalidInput
from pbvote.extensions import db
from pbvote.proposals.models import Proposal
from pbvote.timeutil import utcnow

#: Key of the app's ballot store in ``app.extensions`` (set by :func:`pbvote.ballots.setup.init_app`).
STORE_KEY = "pbvote.ballot_store"


def store():
    """The ballot store chosen when the app started (:mod:`pbvote.ballots.services.stores`)."""
    return current_app.extensions[STORE_KEY]


_signals = Namespace()
#: Sent when a cast is refused because the voter already took part in the budget through another
#: channel (registered on paper or for a kiosk at a community session, say), just before the
#: :class:`~pbvote.errors.Conflict` is raised: ``sender`` is the budget; ``voter``,
#: ``participation_id``, ``took_part`` (the participation's channel) and ``attempted`` (this cast's
#: channel).  The paper register lists such conflicts for staff (:mod:`pbvote.ballots.paper`).
refused_other_channel = _signals.signal("ballots.refused-other-channel")


@dataclass(frozen=True, slots=True)
class StoredBallot:
    """A ballot just written by :func:`cast_ballot`, as plain values: what its receipt shows, read
    the way a :class:`Ballot` is (``id``, ``cast_at``, ``choices``, ``superseded_at``,
    ``voided_at``), without building ORM objects on the hot path of a vote."""

    id: int
    cast_at: datetime
    choices: tuple[Choice, ...]
    superseded_at: datetime | None = None
    voided_at: datetime | None = None


@dataclass(frozen=True)
class CastResult:
    """What :func:`cast_ballot` did: the ballot stored (or found again, for a retry) and its
    tracking code."""

    stored: StoredBallot | Ballot
    tracking_code: str
    #: True when this was a retry of a submission that had already been stored.
    replayed: bool = False
    superseded: Ballot | None = None

    @property
    def ballot(self) -> Ballot:
        """The stored ballot as an object of the session (loaded on first use: the cast builds none)."""
        if isinstance(self.stored, Ballot):
            return self.stored
        return db.session.get(Ballot, self.stored.id)


def new_submission_token() -> str:
    """The idempotency token put in a ballot's review form (one per attempt to cast)."""
    return secrets.token_urlsafe(24)


def _submission_hash(voter: Voter, budget: Budget, token: str) -> str:
    return _keyed_hash("submission", f"{voter.key}:{budget.id}:{token}")


def tracking_code_for(voter: Voter, budget: Budget, token: str) -> str:
    """The receipt's tracking code: derived from the submission, so a retry shows the same one."""
    digest = hmac.new(_key("tracking"), f"{voter.key}:{budget.id}:{token}".encode(), hashlib.sha256).digest()
    return _code_from_digest(digest, TRACKING_CODE_LENGTH)


def lock_voter(voter: Voter) -> None:
    """Take the voter's row lock (PostgreSQL); on SQLite the IMMEDIATE transaction already serialises."""
    if voter.locked:
        return
    if voter.user is not None:
        db.session.execute(sa.select(User.id).where(User.id == voter.user.id).with_for_update())
    else:
        db.session.execute(
            sa.select(AccessCode)
            .where(AccessCode.id == voter.code.id)
            .with_for_update(of=AccessCode)
            .execution_options(populate_existing=True)
        )


def note_frozen(budget, now: datetime) -> None:
    """Tell a loaded ``Budget`` that the statement just written froze it (no reload); a read-only
    snapshot (:mod:`pbvote.ballots.snapshots`) lives for this request only and needs nothing."""
    if isinstance(budget, Budget):
        attributes.set_committed_value(budget, "frozen_at", now)


def first_ballot_result(written: tuple[int, int], budget, now: datetime, choices: list[Choice], code: str) -> CastResult:
    """The result once a store wrote a voter's first ballot: (participation id, ballot id)."""
    if budget.frozen_at is None:
        note_frozen(budget, now)
    return CastResult(StoredBallot(written[1], now, tuple(choices)), code)


def check_token(token: str) -> None:
    if not isinstance(token, str) or not TOKEN_RE.match(token):
        raise InvalidInput(_("The form is incomplete. Reload the page and try again."))


def checked_cast(voter: Voter, budget, choices: Iterable[Choice], token: str, now: datetime, proposals,
                 channel: BallotChannel = BallotChannel.ONLINE):
    """The checks every cast makes (eligibility at ``now``, the ballot's rules), then what it writes:
    (checked choices, the ballot's column values, the tracking code)."""
    check_eligible(voter, budget, now)
    if proposals is None:
        proposals = ballot_snapshot(budget)
    choices = check_choices(budget, proposals, choices)
    code = tracking_code_for(voter, budget, token)
    values = {
        "budget_id": budget.id,
        "channel": channel,
        "cast_at": now,
        "participation_id": None,
        "tracking_hash": tracking_hash(code),
        "submission_hash": _submission_hash(voter, budget, token),
        "supersedes_id": None,
    }
    return choices, values, code


def cast_ballot(
    voter: Voter,
    budget,
    choices: Iterable[Choice],
    token: str,
    *,
    now: datetime | None = None,
    proposals: Sequence[Proposal | BallotProposal] | None = None,
    channel: BallotChannel = BallotChannel.ONLINE,
) -> CastResult:
    """Cast ``voter``'s ballot in ``budget`` in the current transaction — exactly once per voter.

    ``token`` comes from the review form: the same token again (double click, retried request)
    returns the original receipt.  A different one supersedes the voter's live ballot when the
    cycle allows changing one's vote, else raises :class:`Conflict`.  ``proposals``: the result of
    :func:`ballot_snapshot` (or :func:`ballot_proposals`) for ``budget`` if the caller already has it.
    ``channel``: online, or a kiosk at a community session (paper ballots have no voter:
    :func:`cast_paper_ballot`).

    The rows are written with Core statements, not the ORM's unit of work (this is the hot path of
    a vote); the result holds what was written as plain values (:class:`StoredBallot`), and its
    ``ballot`` loads the ORM object when asked.
    """
    now = now or utcnow()
    check_token(token)
    lock_voter(voter)
    choices, values, code = checked_cast(voter, budget, choices, token, now, proposals, channel)
    ballot_store = store()
    written = ballot_store.write_first_ballot(voter, budget, choices, values, now)
    if written is not None:
        return first_ballot_result(written, budget, now, choices, code)
    # The voter took part before.  Only they can be retrying a submission (the hash names them).
    existing = db.session.scalar(sa.select(Ballot).where(Ballot.submission_hash == values["submission_hash"]))
    if existing is not None:
        return CastResult(existing, code, replayed=True)
    took_part_row = db.session.execute(
        sa.select(Participation.id, Participation.channel).where(Participation.budget_id == budget.id, _voter_filter(voter))
    ).one_or_none()
    if took_part_row is None:  # withdrawn meanwhile (a register entry undone): nothing was written
        raise Conflict(_("Your vote could not be stored just now. Please try again."))
    participation_id, took_part = took_part_row
    previous = None
    if budget.cycle.allow_vote_change:
        previous = db.session.scalar(
            sa.select(Ballot).where(
                Ballot.participation_id == participation_id,
                Ballot.superseded_at.is_(None),
                Ballot.voided_at.is_(None),
            )
        )
    if previous is None:
        if took_part != channel:
            refused_other_channel.send(budget, voter=voter, participation_id=participation_id, took_part=took_part,
                                       attempted=channel)
        if took_part == BallotChannel.PAPER:
            raise Conflict(_("You have already voted in this budget on paper, at a community session."))
        raise Conflict(_("You have already voted in this budget."))
    db.session.execute(sa.update(Ballot).where(Ballot.id == previous.id).values(superseded_at=now))
    attributes.set_committed_value(previous, "superseded_at", now)
    ballot_id = ballot_store.write_ballot(voter, budget, choices, values, now, participation_id, previous)
    return CastResult(StoredBallot(ballot_id, now, tuple(choices)), code, superseded=previous)


def cast_paper_ballot(
    budget,
    choices: Iterable[Choice],
    *,
    serial: str,
    clerk: User,
    cast_at: datetime,
    now: datetime | None = None,
    proposals: Sequence[Proposal | BallotProposal] | None = None,
) -> int:
    """Write the counted ballot of one paper sheet (``serial``) in ``budget``: the same rows as an
    online ballot — a :class:`Ballot` of channel paper with its serial and clerk, its choices, the
    budget's freeze, an audit entry — checked by the ballot kind's rules.  Returns the ballot's id.

    A paper ballot has no voter (who voted on paper is the session register's business, never linked
    to a sheet), so no participation and no tracking code; ``cast_at`` is when it was cast on paper
    (the session), ``now`` when it is recorded.  A live paper ballot of the same budget and serial
    already stored is a :class:`Conflict` (the database's partial unique index says so, whatever
    the caller checked before).  Raises :class:`~pbvote.errors.InvalidBallot` for choices that
    break the rules: the paper entry records such a sheet as invalid instead.
    """
    if proposals is None:
        proposals = ballot_snapshot(budget)
    choices = check_choices(budget, proposals, choices)
    return store().write_paper_ballot(budget, choices, serial=serial, clerk=clerk, cast_at=cast_at,
                                      now=now or utcnow())


def live_ballot(voter: Voter, budget) -> Ballot | None:
    """``voter``'s live ballot in ``budget`` while the link is kept (to show and change it)."""
    return db.session.scalar(
        sa.select(Ballot)
        .join(Participation, Participation.id == Ballot.participation_id)
        .where(
            Participation.budget_id == budget.id,
            _voter_filter(voter),
            Ballot.superseded_at.is_(None),
            Ballot.voided_at.is_(None),
        )
    )


# -- the entry point ------------------------------------------------------------------------------


class CastBudget(Protocol):
    """What a cast reads of a budget: a :class:`~pbvote.cycles.models.Budget`, or the read-only
    snapshot the stores build on the hot path (:class:`pbvote.ballots.snapshots.BudgetSnapshot`)."""

    id: int
    cycle_id: int
    district_id: int | None
    name: str
    total_amount: int
    min_choices: int
    max_choices: int | None
    frozen_at: datetime | None
    cycle: Cycle


#: What the view hands the cast to read the voter's submission once the budget and the projects on
#: its ballot are known: (choices, submission token), or None when the form is invalid.
ReadSubmission = Callable[[CastBudget, Sequence[BallotProposal]], "tuple[list[Choice], str] | None"]


@dataclass(frozen=True)
class CastRequest:
    """A submitted ballot: the budget, who submits it (a signed-in account, or the access code the
    browser session holds), and how to read what they chose."""

    budget_id: int
    user: User | None
    code_id: int | None
    read: ReadSubmission
    #: Online, or a kiosk at a community session (the browser session is a kiosk's).
    channel: BallotChannel = BallotChannel.ONLINE


@dataclass(frozen=True)
class Cast:
    """The ballot was cast (or found again for a retry)."""

    budget: CastBudget
    proposals: Sequence[BallotProposal]
    result: CastResult


@dataclass(frozen=True)
class NoVoter:
    """Nobody to cast for: the browser holds neither an account nor a usable access code."""

    budget: CastBudget


@dataclass(frozen=True)
class SubmissionInvalid:
    """The submitted form did not read (its errors are on the form the view built)."""

    budget: CastBudget
    voter: Voter


def cast(request: CastRequest) -> Cast | NoVoter | SubmissionInvalid:
    """Cast a submitted ballot: the one way every ballot is cast from a request.

    The store may cast it at once (PostgreSQL: an access code's first ballot, outside any
    transaction); otherwise the budget and the voter are loaded with the voter's row lock, the
    submission is read and :func:`cast_ballot` decides.  Raises :class:`~pbvote.errors.InvalidBallot`
    for choices that break the ballot's rules, other :class:`~pbvote.errors.DomainError` for a voter
    who may not vote here (closed, not eligible, already voted), and 404 for an unknown or
    unpublished budget.  The caller commits (the request's unit of work).
    """
    ballot_store = store()
    done = ballot_store.cast_unlocked(request)
    if done is not None:
        return done
    budget, voter = locked_target(request.budget_id, request.user, request.code_id)
    if voter is None:
        return NoVoter(budget)
    proposals = ballot_snapshot(budget)
    submission = request.read(budget, proposals)
    if submission is None:
        return SubmissionInvalid(budget, voter)
    choices, token = submission
    return Cast(budget, proposals, cast_ballot(voter, budget, choices, token, proposals=proposals,
                                               channel=request.channel))


#: The budget with its cycle and phases; built once (building it costs more than running it).
_BUDGET = (
    sa.select(Budget)
    .where(Budget.id == sa.bindparam("budget_id"))
    .options(joinedload(Budget.cycle).joinedload(Cycle.phases))
)


def published_budget(budget) -> CastBudget:
    """``budget`` if it exists and its cycle is published, else 404."""
    if budget is None or not budget.cycle.is_published:
        abort(404)
    return budget


def load_budget(budget_id: int) -> Budget:
    """The published budget with its cycle and phases in one query (the cast path counts its queries)."""
    return published_budget(db.session.scalar(_BUDGET, {"budget_id": budget_id}))


def locked_target(budget_id: int, user: User | None, code_id: int | None) -> tuple[CastBudget, Voter | None]:
    """The budget and the voter under their row lock: the account's, or for an access code the
    budget, its cycle and phases and the code in one statement, read as snapshots."""
    if user is not None:
        return load_budget(budget_id), Voter(user=user)
    if not isinstance(code_id, int):
        return load_budget(budget_id), None
    found = store().load_target(budget_id, code_id)
    if found is None:  # no such budget, or no such code: tell which as the separate loads would
        return load_budget(budget_id), lock_code_voter(code_id)
    budget, code = found
    return published_budget(budget), Voter(code=code, locked=True)
