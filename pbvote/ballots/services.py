"""Voting use cases: eligibility, ballot rules, casting exactly once, receipts, access codes.

Like every service module: takes models and plain values, enforces the rules, raises
:mod:`pbvote.errors`, writes the audit log and flushes; the caller commits once.

Exactly once, in three layers (see also :mod:`pbvote.ballots.models`):

1. the cast locks the voter's row (``SELECT ... FOR UPDATE`` on the account or the access code on
   PostgreSQL; on SQLite every write transaction begins ``IMMEDIATE``, which serialises writers);
2. under that lock it looks for the form's submission (a retry gets the original receipt), then for
   the voter's participation and live ballot (superseded if the cycle allows changing one's vote,
   otherwise a :class:`Conflict`);
3. the database refuses a second participation per voter and budget and a second live ballot per
   participation (unique constraints), whatever the code above gets wrong.

On PostgreSQL the writes of a voter's first ballot (the common case) are one statement (see
:data:`_CAST_FIRST_BALLOT_PG`); a retry, a change of vote and SQLite take the generic path.

Access codes are written by hand here (no library does "short, readable, single-use, stored as a
keyed hash"): ``secrets`` for randomness, HMAC-SHA256 with the app's secret key for storage.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import random
import re
import secrets
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy.orm import attributes, selectinload

from pbvote import audit
from pbvote.auth.models import User
from pbvote.ballots.models import (
    AccessCode,
    AccessCodeBatch,
    Ballot,
    BallotChannel,
    BallotChoice,
    Participation,
)
from pbvote.ballots.choices import BallotProposal, Choice, spent_amount  # noqa: F401  (re-exported)
from pbvote.ballots.kinds import kind_of
from pbvote.cycles.models import Budget, Cycle, District, DistrictEligibility, PhaseKind
from pbvote.db import driver_rows
from pbvote.errors import Conflict, InvalidBallot, InvalidInput, NotAllowed, PhaseClosed
from pbvote.extensions import db
from pbvote.proposals.models import Proposal, ProposalStatus
from pbvote.proposals.services import ballot_proposals  # noqa: F401  (re-exported: one rule for what is on the ballot)
from pbvote.timeutil import utcnow

# -- codes: access codes and tracking codes ---------------------------------------------------

#: Unambiguous when read aloud or handwritten: no 0/O, 1/I/L, no U (looks like V).
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
#: 12 symbols of 30: 58.9 bits of entropy (the issue asks for at least 40).
ACCESS_CODE_LENGTH = 12
#: 27 symbols of 30: 132.5 bits (a receipt's tracking code needs at least 128).
TRACKING_CODE_LENGTH = 27
GROUP = 4
LOOKUP_LENGTH = 12
MAX_BATCH_SIZE = 5000
TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{22,64}$")


def _key(purpose: str) -> bytes:
    return f"pbvote-{purpose}:{current_app.config['SECRET_KEY']}".encode()


def _keyed_hash(purpose: str, message: str) -> str:
    return hmac.new(_key(purpose), message.encode(), hashlib.sha256).hexdigest()


def random_code(length: int = ACCESS_CODE_LENGTH) -> str:
    """``length`` symbols of :data:`CODE_ALPHABET` from the operating system's CSPRNG."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(length))


def format_code(code: str, group: int = GROUP) -> str:
    """``K7QM3HXP9RTA`` → ``K7QM-3HXP-9RTA`` (groups of four, easy to read aloud)."""
    return "-".join(code[i : i + group] for i in range(0, len(code), group))


def normalize_code(text: str | None) -> str:
    """What a person typed → the bare code: upper case, without spaces and dashes."""
    return re.sub(r"[\s\-–.]", "", (text or "")).upper()


def hash_access_code(code: str) -> str:
    return _keyed_hash("access-code", normalize_code(code))


def tracking_hash(code: str) -> str:
    """The public fingerprint of a tracking code (SHA-256; anyone can compute it from their code)."""
    return hashlib.sha256(normalize_code(code).encode()).hexdigest()


def _code_from_digest(digest: bytes, length: int) -> str:
    number = int.from_bytes(digest, "big")
    symbols = []
    for _position in range(length):
        number, index = divmod(number, len(CODE_ALPHABET))
        symbols.append(CODE_ALPHABET[index])
    return "".join(symbols)


# -- voters -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Voter:
    """Who is casting: a signed-in account, or an access code used on its own."""

    user: User | None = None
    code: AccessCode | None = None
    #: True when the voter's row lock is already held in this transaction (see :func:`lock_code_voter`).
    locked: bool = False

    @property
    def key(self) -> str:
        return f"u{self.user.id}" if self.user is not None else f"c{self.code.id}"

    @property
    def is_code(self) -> bool:
        return self.user is None


def _voter_filter(voter: Voter):
    if voter.user is not None:
        return Participation.user_id == voter.user.id
    return Participation.access_code_id == voter.code.id


def lock_code_voter(code_id: int) -> Voter | None:
    """The voter holding access code ``code_id``, loaded fresh under the code's row lock.

    One statement instead of a plain load followed by the lock that :func:`cast_ballot` takes.
    """
    code = db.session.scalar(
        sa.select(AccessCode)
        .where(AccessCode.id == code_id)
        .with_for_update(of=AccessCode)
        .execution_options(populate_existing=True)
    )
    return Voter(code=code, locked=True) if code is not None else None


def shuffled_for(proposals: list[Proposal], seed: str, budget: Budget) -> list[Proposal]:
    """The projects in an order that differs between voters but stays the same for one voter."""
    number = int(_keyed_hash("order", f"{seed}:{budget.id}")[:16], 16)
    ordered = sorted(proposals, key=lambda p: p.id)
    random.Random(number).shuffle(ordered)
    return ordered


# -- ballot content and rules -----------------------------------------------------------------


#: Key of the per-app cache of frozen budgets' ballots in ``app.extensions``.
SNAPSHOT_CACHE = "pbvote.ballot_snapshots"


def ballot_snapshot(budget: Budget, connection: sa.Connection | None = None) -> tuple[BallotProposal, ...]:
    """The projects on ``budget``'s ballot (the same rule as :func:`ballot_proposals`), as snapshots.

    Once a budget is frozen (its first ballot, ``Budget.frozen_at``) its set of feasible projects and
    their costs can no longer change: the review services refuse it under the budget's row lock.  So
    the snapshot of a frozen budget is kept per app and process, keyed by (budget id, frozen_at), and
    read from the database only once.  An unfrozen budget is read on every call and never kept.
    ``connection``: read on it instead of the session's (a request that already holds one).
    """
    frozen_at = budget.frozen_at
    cache = current_app.extensions.setdefault(SNAPSHOT_CACHE, {})
    if frozen_at is not None:
        found = cache.get((budget.id, frozen_at))
        if found is not None:
            return found
    rows = (connection or db.session).execute(
        sa.select(Proposal.id, Proposal.title, sa.func.coalesce(Proposal.final_amount, Proposal.estimated_amount))
        .where(Proposal.budget_id == budget.id, Proposal.status == ProposalStatus.FEASIBLE)
        .order_by(Proposal.id)
    )
    snapshot = tuple(BallotProposal(*row) for row in rows)
    if frozen_at is not None:
        cache[(budget.id, frozen_at)] = snapshot
    return snapshot


def check_choices(budget: Budget, proposals: Sequence[Proposal | BallotProposal], choices: Iterable[Choice]) -> list[Choice]:
    """Check ``choices`` against the frozen rule of ``budget`` (its ballot kind's rules); return them
    normalised (by project).  Raises :class:`InvalidBallot` with a message in plain words."""
    return kind_of(budget).check_choices(budget, proposals, choices)


# -- eligibility ------------------------------------------------------------------------------


def check_voting_open(cycle: Cycle, now: datetime) -> None:
    if not cycle.is_published or not cycle.is_in(PhaseKind.VOTING, now):
        phase = cycle.phase(PhaseKind.VOTING)
        if phase is not None and now >= phase.ends_at:
            raise PhaseClosed(_("Voting has closed. Ballots cast after the closing time cannot be counted."))
        raise PhaseClosed(_("Voting is not open."))


def check_eligible(voter: Voter, budget: Budget, now: datetime | None = None) -> None:
    """Raise unless ``voter`` may cast a ballot in ``budget`` at ``now`` (server time)."""
    now = now or utcnow()
    cycle = budget.cycle
    check_voting_open(cycle, now)
    if voter.is_code:
        code = voter.code
        batch = code.batch
        if not cycle.access_codes_enabled:
            raise NotAllowed(_("This cycle does not accept access codes."))
        if code.is_void:
            raise NotAllowed(_("This access code has been cancelled."))
        if code.redeemed_at is not None:
            raise NotAllowed(_("This access code was added to an account. Sign in to vote."))
        if batch.cycle_id != cycle.id:
            raise NotAllowed(_("This access code is for another budget cycle."))
        if batch.budget_id is not None:
            allowed = batch.budget_id == budget.id
        else:
            allowed = budget.district_id is None or budget.district_id == batch.district_id
        if not allowed:
            raise NotAllowed(_("Your access code is not valid for this budget."))
        return
    user = voter.user
    if not user.is_active:
        raise NotAllowed()
    if cycle.verified_only and not user.is_verified:
        raise NotAllowed(_("Only residents whose address has been confirmed can vote. Enter the access code from your letter, or ask the council to confirm your address."))
    if cycle.minimum_age:
        # Counted by year of birth: whoever turns the minimum age this calendar year may vote.
        if user.birth_year is None:
            raise NotAllowed(_(
                "This vote is open to residents who are at least %(age)d years old this year. "
                "Add your year of birth on your account page to vote.", age=cycle.minimum_age
            ))
        if now.year - user.birth_year < cycle.minimum_age:
            raise NotAllowed(_("You must be at least %(age)d years old to vote.", age=cycle.minimum_age))
    if budget.district_id is None or cycle.district_eligibility == DistrictEligibility.ALL_BUDGETS:
        return
    if cycle.district_eligibility == DistrictEligibility.HOME_DISTRICT:
        if user.home_district_id != budget.district_id:
            raise NotAllowed(_("You can vote in the budget of your home district only."))
        return
    # ANY_ONE_DISTRICT: the first district budget voted in is the one.
    other = db.session.scalar(
        sa.select(Participation.id)
        .join(Budget, Budget.id == Participation.budget_id)
        .where(
            Participation.user_id == user.id,
            Budget.cycle_id == cycle.id,
            Budget.district_id.is_not(None),
            Budget.id != budget.id,
        )
        .limit(1)
    )
    if other is not None:
        raise NotAllowed(_("You have already voted in another district's budget; you can vote in one district only."))


@dataclass(frozen=True)
class BudgetStatus:
    budget: Budget
    refusal: str | None  # why the voter cannot vote here, or None
    voted: bool


def voting_overview(cycle: Cycle, voter: Voter | None, now: datetime | None = None) -> list[BudgetStatus]:
    """For the voting page: each budget, whether ``voter`` may vote in it and whether they did."""
    now = now or utcnow()
    voted: set[int] = set()
    if voter is not None:
        voted = set(
            db.session.scalars(
                sa.select(Participation.budget_id).where(
                    _voter_filter(voter), Participation.budget_id.in_([b.id for b in cycle.budgets])
                )
            )
        )
    out = []
    for budget in cycle.budgets:
        refusal = None
        if voter is None:
            refusal = _("Sign in or enter your access code to vote.")
        else:
            try:
                check_eligible(voter, budget, now)
            except (NotAllowed, PhaseClosed) as error:
                refusal = error.message
        out.append(BudgetStatus(budget, refusal, budget.id in voted))
    return out


# -- casting ----------------------------------------------------------------------------------


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


def _lock_voter(voter: Voter) -> None:
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


#: Record a participation unless the voter already has one in this budget.  The same SQL on
#: PostgreSQL and SQLite; written as text because SQLAlchemy cannot cache a compiled ON CONFLICT.
_INSERT_PARTICIPATION = sa.text(
    "INSERT INTO participations (budget_id, user_id, access_code_id, channel, created_at) "
    "VALUES (:budget_id, :user_id, :access_code_id, :channel, :created_at) "
    "ON CONFLICT DO NOTHING RETURNING id"
).bindparams(sa.bindparam("created_at", type_=sa.DateTime())).columns(id=sa.Integer)


def _insert_participation(voter: Voter, budget: Budget, now: datetime) -> int | None:
    """Record that ``voter`` took part in ``budget``; None if they already had (nothing written).

    One ``INSERT ... ON CONFLICT DO NOTHING`` instead of a look-up and an insert: the voter's first
    ballot, the common case, costs one statement.
    """
    return db.session.connection().scalar(
        _INSERT_PARTICIPATION,
        {
            "budget_id": budget.id,
            "user_id": voter.user.id if voter.user is not None else None,
            "access_code_id": voter.code.id if voter.code is not None else None,
            "channel": BallotChannel.ONLINE.value,
            "created_at": now,
        },
    )


#: The hot path's writes, built once, run on the session's connection: Table-level statements skip
#: the ORM's bulk-persistence layer, which is most of the cost of a small insert.
_INSERT_BALLOT = sa.insert(Ballot.__table__).returning(Ballot.__table__.c.id)
_INSERT_CHOICE = sa.insert(BallotChoice.__table__)


#: PostgreSQL: a voter's first ballot in one statement — participation, ballot, choices, audit entry
#: (and the budget's freeze, on its first ballot) — one round trip instead of four or five.  Data-
#: modifying CTEs see one snapshot and run all or nothing; the foreign keys are checked at the end of
#: the statement.  Nothing is written when the voter already took part (the participation insert
#: returns no row, so neither does anything built on it): the caller then takes the generic path
#: (a retry, a change of vote, or a conflict).  SQLite keeps the generic path: it has no
#: data-modifying CTEs.  The audit entry is the same one :func:`pbvote.audit.write` would add.
_CAST_FIRST_BALLOT_PG = """
WITH {participation}, ballot AS (
    INSERT INTO ballots (budget_id, channel, cast_at, participation_id, tracking_hash, submission_hash)
    SELECT %(budget_id)s, %(channel)s, %(now)s, CASE WHEN %(keep_link)s THEN participation.id END,
           %(tracking_hash)s, %(submission_hash)s
    FROM participation
    RETURNING id
), choices AS (
    INSERT INTO ballot_choices (ballot_id, proposal_id, points, rank)
    SELECT ballot.id, marked.proposal_id, marked.points, marked.rank
    FROM ballot, unnest(CAST(%(proposal_ids)s AS integer[]), CAST(%(points)s AS integer[]), CAST(%(ranks)s AS integer[]))
         AS marked (proposal_id, points, rank)
), audit AS (
    INSERT INTO audit_entries (at, action, actor_id, subject_type, subject_id, data, address_hash)
    SELECT %(now)s, 'ballot.cast', %(actor_id)s, 'Budget', %(budget_id)s, CAST(%(audit_data)s AS json), %(address_hash)s
    FROM ballot
){freeze}
SELECT participation.id, ballot.id FROM participation, ballot
"""
_FREEZE_PG = """, frozen AS (
    UPDATE budgets SET frozen_at = %(now)s
    WHERE id = %(budget_id)s AND frozen_at IS NULL AND EXISTS (SELECT 1 FROM ballot)
)"""
#: The voter's participation, in a transaction that already holds the voter's row lock.
_PARTICIPATION_PG = """participation AS (
    INSERT INTO participations (budget_id, user_id, access_code_id, channel, created_at)
    VALUES (%(budget_id)s, %(user_id)s, %(access_code_id)s, %(channel)s, %(now)s)
    ON CONFLICT DO NOTHING
    RETURNING id
)"""
#: An access code's participation in a statement of its own (no transaction around it, the code
#: read without a lock before): the statement takes the code's row lock itself and writes nothing
#: unless the code is still as the eligibility check saw it — not cancelled, its batch not
#: cancelled, not added to an account.  (What else the check read of the code and its batch — cycle,
#: budget, district — never changes.)  Casts with the same code queue on the lock; the first one's
#: participation makes the others write nothing, as in a transaction.
_CODE_PARTICIPATION_PG = """code AS (
    SELECT access_codes.id FROM access_codes
    JOIN access_code_batches ON access_code_batches.id = access_codes.batch_id
    WHERE access_codes.id = %(access_code_id)s AND access_codes.voided_at IS NULL
      AND access_codes.redeemed_at IS NULL AND access_code_batches.voided_at IS NULL
    FOR UPDATE OF access_codes
), participation AS (
    INSERT INTO participations (budget_id, user_id, access_code_id, channel, created_at)
    SELECT %(budget_id)s, NULL, code.id, %(channel)s, %(now)s FROM code
    ON CONFLICT DO NOTHING
    RETURNING id
)"""
#: Run through the driver (:func:`pbvote.db.driver_rows`, prepared once per connection): written in
#: psycopg's parameter style; by (the code checks and locks itself, the budget's freeze).
_CAST_PG = {
    (own, freeze): _CAST_FIRST_BALLOT_PG.replace("{participation}", _CODE_PARTICIPATION_PG if own else _PARTICIPATION_PG)
    .replace("{freeze}", _FREEZE_PG if freeze else "")
    for own in (False, True)
    for freeze in (False, True)
}


def _cast_first_ballot_pg(voter: Voter, budget: Budget, choices: list[Choice], values: dict, now: datetime,
                          connection: sa.Connection | None = None):
    """Run :data:`_CAST_FIRST_BALLOT_PG`; (participation id, ballot id), or None if the voter had
    already taken part in ``budget`` (then nothing was written).  A unique constraint's refusal
    (a second live ballot, should the lock ever fail) raises :class:`sqlalchemy.exc.IntegrityError`
    as a statement run through the session would.

    ``connection``: an access code's cast outside any transaction (:func:`pbvote.db.autocommit_connection`);
    the statement then locks and checks the code itself (:data:`_CODE_PARTICIPATION_PG`), and also
    returns None when the code changed since it was read."""
    via = "account" if voter.user is not None else "access_code"
    params = {
        "budget_id": budget.id,
        "user_id": voter.user.id if voter.user is not None else None,
        "access_code_id": voter.code.id if voter.code is not None else None,
        "channel": BallotChannel.ONLINE.value,
        "now": now,
        "keep_link": budget.cycle.allow_vote_change,
        "tracking_hash": values["tracking_hash"],
        "submission_hash": values["submission_hash"],
        "proposal_ids": [c.proposal_id for c in choices],
        "points": [c.points for c in choices],
        "ranks": [c.rank for c in choices],
        "actor_id": voter.user.id if voter.user is not None else None,
        "audit_data": json.dumps({"via": via, "channel": BallotChannel.ONLINE.value}),
        "address_hash": audit.request_address_hash(),
    }
    statement = _CAST_PG[connection is not None, budget.frozen_at is None]
    rows = driver_rows(statement, params, connection)  # IntegrityError as SQLAlchemy's
    return tuple(rows[0]) if rows else None


def _note_frozen(budget: Budget, now: datetime) -> None:
    """Tell a loaded ``Budget`` that the statement just written froze it (no reload); a read-only
    snapshot (:mod:`pbvote.ballots.snapshots`) lives for this request only and needs nothing."""
    if isinstance(budget, Budget):
        attributes.set_committed_value(budget, "frozen_at", now)


def _first_ballot_result(written: tuple[int, int], budget: Budget, now: datetime, choices: list[Choice],
                         code: str) -> CastResult:
    """The result once :func:`_cast_first_ballot_pg` has written (participation id, ballot id)."""
    if budget.frozen_at is None:
        _note_frozen(budget, now)
    return CastResult(StoredBallot(written[1], now, tuple(choices)), code)


def _check_token(token: str) -> None:
    if not isinstance(token, str) or not TOKEN_RE.match(token):
        raise InvalidInput(_("The form is incomplete. Reload the page and try again."))


def _checked_cast(voter: Voter, budget: Budget, choices: Iterable[Choice], token: str, now: datetime, proposals):
    """The checks every cast makes (eligibility at ``now``, the ballot's rules), then what it writes:
    (checked choices, the ballot's column values, the tracking code)."""
    check_eligible(voter, budget, now)
    if proposals is None:
        proposals = ballot_snapshot(budget)
    choices = check_choices(budget, proposals, choices)
    code = tracking_code_for(voter, budget, token)
    values = {
        "budget_id": budget.id,
        "channel": BallotChannel.ONLINE,
        "cast_at": now,
        "participation_id": None,
        "tracking_hash": tracking_hash(code),
        "submission_hash": _submission_hash(voter, budget, token),
        "supersedes_id": None,
    }
    return choices, values, code


def cast_first_code_ballot(
    voter: Voter,
    budget: Budget,
    choices: Iterable[Choice],
    token: str,
    connection: sa.Connection,
    *,
    now: datetime | None = None,
    proposals: Sequence[Proposal | BallotProposal] | None = None,
) -> CastResult | None:
    """An access code's first ballot in ``budget`` as one statement on ``connection``, a PostgreSQL
    connection outside any transaction (:func:`pbvote.db.autocommit_connection`): stored and
    committed when this returns, with no ``BEGIN`` or ``COMMIT`` round trip.

    ``voter`` and ``budget`` were read without a lock (:func:`pbvote.ballots.snapshots.load_cast_target`
    with a connection); the checks are those of :func:`cast_ballot`, and the statement takes the
    code's row lock and writes nothing unless the code is still usable (:data:`_CODE_PARTICIPATION_PG`).
    Returns None when nothing was written — the code took part before (a retry, a change of vote,
    a second ballot) or changed since it was read: then :func:`cast_ballot` under the code's lock
    decides, as for any cast.  Raises what :func:`cast_ballot` raises for a ballot it would refuse.
    """
    if voter.user is not None or connection.dialect.name != "postgresql":
        raise ValueError("cast_first_code_ballot casts an access code's ballot on PostgreSQL")
    now = now or utcnow()
    _check_token(token)
    choices, values, code = _checked_cast(voter, budget, choices, token, now, proposals)
    try:
        written = _cast_first_ballot_pg(voter, budget, choices, values, now, connection)
    except sa.exc.IntegrityError:
        return None  # a unique constraint refused it: the locked cast says why
    return _first_ballot_result(written, budget, now, choices, code) if written is not None else None


def cast_ballot(
    voter: Voter,
    budget: Budget,
    choices: Iterable[Choice],
    token: str,
    *,
    now: datetime | None = None,
    proposals: Sequence[Proposal | BallotProposal] | None = None,
) -> CastResult:
    """Cast ``voter``'s ballot in ``budget`` — exactly once per voter, whatever arrives twice.

    ``token`` comes from the review form: the same token again (double click, retried request)
    returns the original receipt.  A different one supersedes the voter's live ballot when the
    cycle allows changing one's vote, else raises :class:`Conflict`.  ``proposals``: the result of
    :func:`ballot_snapshot` (or :func:`ballot_proposals`) for ``budget`` if the caller already has it.

    The rows are written with Core statements, not the ORM's unit of work (this is the hot path of
    a vote); the result holds what was written as plain values (:class:`StoredBallot`), and its
    ``ballot`` loads the ORM object when asked.
    """
    now = now or utcnow()
    _check_token(token)
    _lock_voter(voter)
    choices, values, code = _checked_cast(voter, budget, choices, token, now, proposals)
    submission = values["submission_hash"]
    cycle = budget.cycle
    previous = None
    if db.session.connection().dialect.name == "postgresql":
        try:
            written = _cast_first_ballot_pg(voter, budget, choices, values, now)
        except sa.exc.IntegrityError:
            raise Conflict(_("You have already voted in this budget.")) from None
        if written is not None:
            return _first_ballot_result(written, budget, now, choices, code)
        participation_id = None  # the voter took part before: nothing was written
    else:
        participation_id = _insert_participation(voter, budget, now)
    if participation_id is None:
        # The voter took part before.  Only they can be retrying a submission (the hash names them).
        existing = db.session.scalar(sa.select(Ballot).where(Ballot.submission_hash == submission))
        if existing is not None:
            return CastResult(existing, code, replayed=True)
        participation_id = db.session.scalar(
            sa.select(Participation.id).where(Participation.budget_id == budget.id, _voter_filter(voter))
        )
        if cycle.allow_vote_change:
            previous = db.session.scalar(
                sa.select(Ballot).where(
                    Ballot.participation_id == participation_id,
                    Ballot.superseded_at.is_(None),
                    Ballot.voided_at.is_(None),
                )
            )
        if previous is None:
            raise Conflict(_("You have already voted in this budget."))
        db.session.execute(sa.update(Ballot).where(Ballot.id == previous.id).values(superseded_at=now))
        attributes.set_committed_value(previous, "superseded_at", now)

    # Keep the voter link only if re-voting may need it.
    values["participation_id"] = participation_id if cycle.allow_vote_change else None
    values["supersedes_id"] = previous.id if previous is not None else None
    try:
        connection = db.session.connection()
        ballot_id = connection.execute(_INSERT_BALLOT, values).scalar_one()
        if choices:
            connection.execute(
                _INSERT_CHOICE,
                [{"ballot_id": ballot_id, "proposal_id": c.proposal_id, "points": c.points, "rank": c.rank} for c in choices],
            )
    except sa.exc.IntegrityError:
        # The database's unique constraints caught a second ballot (should the lock ever fail).
        raise Conflict(_("You have already voted in this budget.")) from None

    if budget.frozen_at is None:
        db.session.execute(
            sa.update(Budget).where(Budget.id == budget.id, Budget.frozen_at.is_(None)).values(frozen_at=now)
        )
        _note_frozen(budget, now)

    # The audit entry names the budget, never the ballot: it must not re-link voter and contents.
    via = "account" if voter.user is not None else "access_code"
    if previous is not None:
        audit.write("ballot.superseded", actor=voter.user, subject=budget, via=via)
    audit.write("ballot.cast", actor=voter.user, subject=budget, via=via, channel=BallotChannel.ONLINE.value)
    return CastResult(StoredBallot(ballot_id, now, tuple(choices)), code, superseded=previous)


def live_ballot(voter: Voter, budget: Budget) -> Ballot | None:
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


def countable_ballots(budget: Budget) -> Iterator[Ballot]:
    """The ballots of ``budget`` the tally counts: every channel, neither superseded nor voided.

    The single source of ballots for the tally, online and paper alike.  Choices come preloaded.
    """
    statement = (
        sa.select(Ballot)
        .where(Ballot.budget_id == budget.id, Ballot.superseded_at.is_(None), Ballot.voided_at.is_(None))
        .order_by(Ballot.id)
        .options(selectinload(Ballot.choices))
    )
    yield from db.session.scalars(statement)


def seal_voter_links(cycle: Cycle, now: datetime | None = None) -> int:
    """After voting has closed, forget which participation each ballot belongs to.

    What stays: that a person took part in a budget (one person, one ballot) and the anonymous
    ballots.  Returns the number of ballots unlinked.
    """
    now = now or utcnow()
    phase = cycle.phase(PhaseKind.VOTING)
    if phase is None or now < phase.ends_at:
        raise PhaseClosed(_("Voter links are kept until voting has closed."))
    result = db.session.execute(
        sa.update(Ballot)
        .where(Ballot.budget_id.in_([b.id for b in cycle.budgets]), Ballot.participation_id.is_not(None))
        .values(participation_id=None)
    )
    audit.record("ballots.sealed", subject=cycle, ballots=result.rowcount)
    db.session.flush()
    return result.rowcount


# -- receipts and the public list --------------------------------------------------------------


def ballot_by_tracking_code(code: str) -> Ballot | None:
    return db.session.scalar(sa.select(Ballot).where(Ballot.tracking_hash == tracking_hash(code)))


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


def check_export_allowed(cycle: Cycle, now: datetime | None = None) -> None:
    """Ballots are exported only after voting has closed (no running tallies during the vote)."""
    phase = cycle.phase(PhaseKind.VOTING)
    if phase is None or (now or utcnow()) < phase.ends_at:
        raise PhaseClosed(_("Ballots can be exported once voting has closed."))


def anonymised_ballot_rows(cycle: Cycle) -> Iterator[dict]:
    """Every ballot of ``cycle`` without anything that points to a voter: no ids, no times of day.

    Rows are ordered by tracking hash (random), so the order does not reveal the order of casting.
    """
    by_id = {b.id: b for b in cycle.budgets}
    statement = (
        sa.select(Ballot)
        .where(Ballot.budget_id.in_(list(by_id)))
        .order_by(Ballot.budget_id, Ballot.tracking_hash, Ballot.id)
        .options(selectinload(Ballot.choices))
    )
    for ballot in db.session.scalars(statement):
        yield {
            "budget": by_id[ballot.budget_id].name,
            "tracking_hash": ballot.tracking_hash or "",
            "channel": ballot.channel.value,
            "date": ballot.cast_at.date().isoformat(),
            "state": ballot_state(ballot),
            "choices": " ".join(
                str(c.proposal_id) + (f":{c.points}" if c.points is not None else "") + (f"#{c.rank}" if c.rank is not None else "")
                for c in ballot.choices
            ),
        }


# -- access codes -----------------------------------------------------------------------------


def generate_access_codes(
    actor: User,
    cycle: Cycle,
    *,
    count: int,
    budget: Budget | None = None,
    district: District | None = None,
    label: str = "",
) -> tuple[AccessCodeBatch, list[str]]:
    """Create a batch of ``count`` single-use codes for ``budget`` or ``district``.

    Returns the batch and the codes in clear — the only time they exist in clear: only their
    keyed hashes are stored.
    """
    if not cycle.access_codes_enabled:
        raise NotAllowed(_("Access codes are switched off for this cycle."))
    if (budget is None) == (district is None):
        raise InvalidInput(_("Choose a budget or a district."), field="target")
    if budget is not None and budget.cycle_id != cycle.id:
        raise InvalidInput(_("Choose a budget of this cycle."), field="target")
    if district is not None and not any(b.district_id == district.id for b in cycle.budgets):
        raise InvalidInput(_("This district has no budget in this cycle."), field="target")
    if not 1 <= count <= MAX_BATCH_SIZE:
        raise InvalidInput(_("Generate between 1 and %(n)d codes at a time.", n=MAX_BATCH_SIZE), field="count")
    batch = AccessCodeBatch(
        cycle_id=cycle.id,
        budget_id=budget.id if budget is not None else None,
        district_id=district.id if district is not None else None,
        label=(label or "").strip()[:120],
        size=count,
        created_by_id=actor.id if actor is not None else None,
    )
    db.session.add(batch)
    db.session.flush()
    codes: list[str] = []
    seen: set[str] = set()
    rows = []
    while len(codes) < count:
        code = random_code()
        digest = hash_access_code(code)
        if digest in seen:
            continue
        seen.add(digest)
        codes.append(code)
        rows.append({"batch_id": batch.id, "lookup": digest[:LOOKUP_LENGTH], "code_hash": digest})
    db.session.execute(sa.insert(AccessCode), rows)
    audit.record("access_codes.generated", actor=actor, subject=batch, count=count)
    db.session.flush()
    return batch, codes


def find_access_code(text: str, *, lock: bool = False) -> AccessCode | None:
    """The code matching what a person typed (any case, with or without dashes), or None."""
    code = normalize_code(text)
    if len(code) != ACCESS_CODE_LENGTH or any(ch not in CODE_ALPHABET for ch in code):
        return None
    digest = hash_access_code(code)
    statement = sa.select(AccessCode).where(AccessCode.lookup == digest[:LOOKUP_LENGTH])
    if lock:
        statement = statement.with_for_update(of=AccessCode)
    for candidate in db.session.scalars(statement):
        if hmac.compare_digest(candidate.code_hash, digest):
            return candidate
    return None


def open_access_code(text: str) -> AccessCode:
    """Check a code typed on the voting page (to vote without an account) and return it."""
    code = find_access_code(text)
    if code is None:
        raise InvalidInput(_("We do not recognise this code. Check it and try again."), field="code")
    if code.is_void:
        raise InvalidInput(_("This access code has been cancelled."), field="code")
    if code.redeemed_at is not None:
        raise InvalidInput(_("This access code was added to an account. Sign in to vote."), field="code")
    return code


def redeem_access_code(user: User, text: str) -> AccessCode:
    """Add a code to ``user``'s account: it confirms their district; the code is then used up."""
    code = find_access_code(text, lock=True)
    if code is None:
        raise InvalidInput(_("We do not recognise this code. Check it and try again."), field="code")
    if code.is_void:
        raise InvalidInput(_("This access code has been cancelled."), field="code")
    if code.redeemed_at is not None:
        raise Conflict(_("This access code has already been used."), field="code")
    used_alone = db.session.scalar(sa.select(Participation.id).where(Participation.access_code_id == code.id).limit(1))
    if used_alone is not None:
        raise Conflict(_("This access code has already been used to vote."), field="code")
    batch = code.batch
    district_id = batch.district_id if batch.budget_id is None else batch.budget.district_id
    if district_id is not None and district_id != user.home_district_id:
        _refuse_district_move(user, batch.cycle_id)
        user.home_district_id = district_id
    user.verified_at = user.verified_at or utcnow()
    code.redeemed_at = utcnow()
    code.redeemed_by_id = user.id
    audit.record("access_code.redeemed", actor=user, subject=user, district_id=district_id)
    db.session.flush()
    return code


def open_kiosk(actor: User, cycle: Cycle) -> None:
    """Record that ``actor`` turned a device into a voting kiosk for ``cycle`` (the browser session
    itself is the view's)."""
    audit.record("kiosk.opened", actor=actor, subject=cycle)
    db.session.flush()


def _refuse_district_move(user: User, cycle_id: int) -> None:
    """An account that took part in a district's budget of the cycle keeps its district: a code for
    another district would otherwise let it vote in a second district's budget."""
    voted_in = db.session.scalar(
        sa.select(District.name)
        .join(Budget, Budget.district_id == District.id)
        .join(Participation, Participation.budget_id == Budget.id)
        .where(Participation.user_id == user.id, Budget.cycle_id == cycle_id)
        .limit(1)
    )
    if voted_in is not None:
        raise Conflict(
            _("You have already voted in the budget of %(district)s in this cycle, so this code cannot move "
              "your account to another district. If you have moved, ask the council's staff.", district=voted_in),
            field="code",
        )


def void_access_code(actor: User, text: str, reason: str) -> AccessCode:
    """Cancel one code (lost letter, handed out twice, ...).  Ballots already cast stay counted."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_("Say why the code is cancelled."), field="reason")
    code = find_access_code(text, lock=True)
    if code is None:
        raise InvalidInput(_("We do not recognise this code. Check it and try again."), field="code")
    if code.voided_at is not None:
        raise Conflict(_("This code is already cancelled."), field="code")
    with db.session.no_autoflush:
        code.voided_at, code.voided_by_id, code.void_reason = utcnow(), actor.id, reason[:200]
    audit.record("access_code.voided", actor=actor, subject=code.batch, code_id=code.id, reason=code.void_reason)
    db.session.flush()
    return code


def void_access_code_batch(actor: User, batch: AccessCodeBatch) -> None:
    """Cancel every unused code of ``batch``."""
    if batch.voided_at is not None:
        raise Conflict(_("This batch is already cancelled."))
    batch.voided_at = utcnow()
    audit.record("access_code_batch.voided", actor=actor, subject=batch)
    db.session.flush()


@dataclass(frozen=True)
class BatchSummary:
    batch: AccessCodeBatch
    used: int
    redeemed: int
    voided: int


def batch_summaries(cycle: Cycle) -> list[BatchSummary]:
    batches = db.session.scalars(
        sa.select(AccessCodeBatch).where(AccessCodeBatch.cycle_id == cycle.id).order_by(AccessCodeBatch.id.desc())
    ).all()
    if not batches:
        return []
    ids = [b.id for b in batches]
    used = dict(
        db.session.execute(
            sa.select(AccessCode.batch_id, sa.func.count(sa.distinct(Participation.access_code_id)))
            .join(Participation, Participation.access_code_id == AccessCode.id)
            .where(AccessCode.batch_id.in_(ids))
            .group_by(AccessCode.batch_id)
        ).all()
    )
    redeemed = dict(
        db.session.execute(
            sa.select(AccessCode.batch_id, sa.func.count())
            .where(AccessCode.batch_id.in_(ids), AccessCode.redeemed_at.is_not(None))
            .group_by(AccessCode.batch_id)
        ).all()
    )
    voided = dict(
        db.session.execute(
            sa.select(AccessCode.batch_id, sa.func.count())
            .where(AccessCode.batch_id.in_(ids), AccessCode.voided_at.is_not(None))
            .group_by(AccessCode.batch_id)
        ).all()
    )
    return [BatchSummary(b, used.get(b.id, 0), redeemed.get(b.id, 0), voided.get(b.id, 0)) for b in batches]


# -- residents' verification -------------------------------------------------------------------


def verify_resident(actor: User, user: User, district: District | None) -> User:
    """Staff confirm that ``user`` lives in ``district`` (after checking a document, for example)."""
    user.home_district_id = district.id if district is not None else None
    user.verified_at = utcnow()
    audit.record("user.verified", actor=actor, subject=user, district_id=user.home_district_id)
    db.session.flush()
    return user
