"""Where a cast's rows are read and written: two ballot stores, one chosen when the app starts.

* :class:`CoreStore`, for any database (SQLite, the embedded default): SQLAlchemy Core statements in
  the request's transaction (the ORM's unit of work was most of the cost of a small insert).
* :class:`PostgresStore`, PostgreSQL's fast path, which saves round trips on the most common cast:
  a voter's first ballot is written in one statement (participation, ballot, choices, audit entry
  and the budget's freeze as data-modifying CTEs: all or nothing), and an access code's first ballot
  is cast outside any transaction in two statements (the budget and code read, then that one
  statement, which takes the code's row lock and checks it again itself): no ``BEGIN``, no
  ``COMMIT`` round trip.  Statements go straight through the driver (:func:`pbvote.db.driver_rows`).

Both stores make the same checks (they are made before, by :mod:`pbvote.ballots.services.casting`),
store the same rows and audit the same way; anything unusual (a retry, a change of vote, a code that
changed since it was read) goes the portable way under the voter's lock.  ``tests/ballots`` runs the
whole suite on both databases, and ``tests/ballots/test_cast_one_statement.py`` pins the fast path's
statements and their equivalence.
"""
from __future__ import annotations

import json
from datetime import datetime

import sqlalchemy as sa
from flask_babel import gettext as _

from pbvote import audit
from pbvote.ballots.models import Ballot, BallotChannel, BallotChoice
from pbvote.ballots.services import casting
from pbvote.ballots.services.casting import Cast, CastRequest
from pbvote.ballots.services.content import ballot_snapshot
from pbvote.ballots.services.voters import Voter
from pbvote.ballots.snapshots import BudgetSnapshot, CodeSnapshot, cast_target_from_rows, cast_target_statement
from pbvote.cycles.models import Budget
from pbvote.db import autocommit_connection, driver_rows
from pbvote.errors import Conflict, DomainError
from pbvote.extensions import db

#: Record a participation unless the voter already has one in this budget.  The same SQL on
#: PostgreSQL and SQLite; written as text because SQLAlchemy cannot cache a compiled ON CONFLICT.
_INSERT_PARTICIPATION = sa.text(
    "INSERT INTO participations (budget_id, user_id, access_code_id, channel, created_at) "
    "VALUES (:budget_id, :user_id, :access_code_id, :channel, :created_at) "
    "ON CONFLICT DO NOTHING RETURNING id"
).bindparams(sa.bindparam("created_at", type_=sa.DateTime())).columns(id=sa.Integer)

#: The hot path's writes, built once, run on the session's connection.
_INSERT_BALLOT = sa.insert(Ballot.__table__).returning(Ballot.__table__.c.id)
_INSERT_CHOICE = sa.insert(BallotChoice.__table__)


def _via(voter: Voter) -> str:
    return "account" if voter.user is not None else "access_code"


class CoreStore:
    """The portable store: SQLAlchemy Core statements in the request's transaction."""

    name = "core"

    def load_target(self, budget_id: int, code_id: int) -> tuple[BudgetSnapshot, CodeSnapshot] | None:
        """Budget ``budget_id`` (its cycle and phases) and access code ``code_id`` under its row lock,
        in one statement, as snapshots; None when either does not exist."""
        rows = db.session.connection().execute(cast_target_statement(locked=True), {"budget_id": budget_id, "code_id": code_id}).all()
        return cast_target_from_rows(rows, enums=False)

    def cast_unlocked(self, request: CastRequest) -> Cast | None:
        """A cast that needs no transaction: none on this store."""
        return None

    def write_first_ballot(self, voter: Voter, budget, choices, values: dict, now: datetime) -> tuple[int, int] | None:
        """Write ``voter``'s first ballot in ``budget``: (participation id, ballot id), or None when
        the voter took part before (then nothing was written)."""
        participation_id = db.session.connection().scalar(
            _INSERT_PARTICIPATION,
            {
                "budget_id": budget.id,
                "user_id": voter.user.id if voter.user is not None else None,
                "access_code_id": voter.code.id if voter.code is not None else None,
                "channel": values["channel"].value,
                "created_at": now,
            },
        )
        if participation_id is None:
            return None
        return participation_id, self.write_ballot(voter, budget, choices, values, now, participation_id, None)

    def write_ballot(self, voter: Voter, budget, choices, values: dict, now: datetime, participation_id: int,
                     previous: Ballot | None) -> int:
        """Write a ballot of a participation (superseding ``previous``, already marked), its choices,
        the budget's freeze and the audit entries; the ballot's id."""
        # Keep the voter link only if re-voting may need it.
        values = dict(values, participation_id=participation_id if budget.cycle.allow_vote_change else None,
                      supersedes_id=previous.id if previous is not None else None)
        # The database's unique constraints catch a second ballot (should the lock ever fail).
        ballot_id = self._insert_ballot(values, choices, _("You have already voted in this budget."))
        self._freeze(budget, now)
        # The audit entry names the budget, never the ballot: it must not re-link voter and contents.
        subject = audit.Ref("Budget", budget.id)
        if previous is not None:
            audit.write("ballot.superseded", actor=voter.user, subject=subject, via=_via(voter))
        audit.write("ballot.cast", actor=voter.user, subject=subject, via=_via(voter), channel=values["channel"].value)
        return ballot_id

    def write_paper_ballot(self, budget, choices, *, serial: str, clerk, cast_at: datetime, now: datetime) -> int:
        """Write a paper sheet's counted ballot (no participation, no tracking code), its choices,
        the budget's freeze and the audit entry; the ballot's id.  Both stores write it alike."""
        values = {
            "budget_id": budget.id,
            "channel": BallotChannel.PAPER,
            "cast_at": cast_at,
            "participation_id": None,
            "tracking_hash": None,
            "submission_hash": None,
            "supersedes_id": None,
            "paper_serial": serial,
            "recorded_by_id": clerk.id,
        }
        ballot_id = self._insert_ballot(values, choices, _("This sheet is already counted."))
        self._freeze(budget, now)
        audit.write("ballot.cast", actor=clerk, subject=audit.Ref("Budget", budget.id), via="paper",
                    channel=BallotChannel.PAPER.value)
        return ballot_id

    @staticmethod
    def _insert_ballot(values: dict, choices, refusal: str) -> int:
        """Insert a ballot row and its choices; :class:`Conflict` (``refusal``) when a unique
        constraint refuses it."""
        try:
            connection = db.session.connection()
            ballot_id = connection.execute(_INSERT_BALLOT, values).scalar_one()
            if choices:
                connection.execute(
                    _INSERT_CHOICE,
                    [{"ballot_id": ballot_id, "proposal_id": c.proposal_id, "points": c.points, "rank": c.rank}
                     for c in choices],
                )
        except sa.exc.IntegrityError:
            raise Conflict(refusal) from None
        return ballot_id

    @staticmethod
    def _freeze(budget, now: datetime) -> None:
        """Freeze ``budget``'s rules at its first ballot (a no-op once frozen)."""
        if budget.frozen_at is None:
            db.session.execute(
                sa.update(Budget).where(Budget.id == budget.id, Budget.frozen_at.is_(None)).values(frozen_at=now)
            )
            casting.note_frozen(budget, now)


# -- PostgreSQL -----------------------------------------------------------------------------------

#: A voter's first ballot in one statement — participation, ballot, choices, audit entry (and the
#: budget's freeze, on its first ballot) — one round trip instead of four or five.  Data-modifying
#: CTEs see one snapshot and run all or nothing; the foreign keys are checked at the end of the
#: statement.  Nothing is written when the voter already took part (the participation insert returns
#: no row, so neither does anything built on it): the caller then takes the portable path.  The
#: audit row is the one :func:`pbvote.audit.write` adds, its columns read from the model.
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
    {audit}
){freeze}
SELECT participation.id, ballot.id FROM participation, ballot
""".replace("{audit}", audit.insert_select_sql({
    "at": "%(now)s",
    "action": "'ballot.cast'",
    "actor_id": "%(actor_id)s",
    "subject_type": "'Budget'",
    "subject_id": "%(budget_id)s",
    "data": "CAST(%(audit_data)s AS json)",
    "address_hash": "%(address_hash)s",
}, source="ballot"))
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
#: By (the code checks and locks itself, the budget's freeze); in psycopg's parameter style.
_CAST_PG = {
    (own, freeze): _CAST_FIRST_BALLOT_PG.replace("{participation}", _CODE_PARTICIPATION_PG if own else _PARTICIPATION_PG)
    .replace("{freeze}", _FREEZE_PG if freeze else "")
    for own in (False, True)
    for freeze in (False, True)
}


class PostgresStore(CoreStore):
    """PostgreSQL's store: the portable one, with a voter's first ballot in one statement and an
    access code's first ballot outside any transaction."""

    name = "postgresql"

    def load_target(self, budget_id, code_id, connection: sa.Connection | None = None):
        """As :meth:`CoreStore.load_target`, straight through the driver; on ``connection`` (outside
        any transaction) the code is read without a lock, for a write that locks and checks it."""
        statement = cast_target_statement(locked=connection is None)
        rows = driver_rows(statement, {"budget_id": budget_id, "code_id": code_id}, connection)
        return cast_target_from_rows(rows, enums=True)

    def write_first_ballot(self, voter, budget, choices, values, now, connection: sa.Connection | None = None):
        """The one statement; with ``connection`` (an access code's cast outside any transaction)
        the statement locks and checks the code itself, and also writes nothing (None) when the
        code changed since it was read.  A unique constraint's refusal raises
        :class:`sqlalchemy.exc.IntegrityError` on ``connection``, :class:`Conflict` otherwise."""
        params = {
            "budget_id": budget.id,
            "user_id": voter.user.id if voter.user is not None else None,
            "access_code_id": voter.code.id if voter.code is not None else None,
            "channel": values["channel"].value,
            "now": now,
            "keep_link": budget.cycle.allow_vote_change,
            "tracking_hash": values["tracking_hash"],
            "submission_hash": values["submission_hash"],
            "proposal_ids": [c.proposal_id for c in choices],
            "points": [c.points for c in choices],
            "ranks": [c.rank for c in choices],
            "actor_id": voter.user.id if voter.user is not None else None,
            "audit_data": json.dumps({"via": _via(voter), "channel": values["channel"].value}),
            "address_hash": audit.request_address_hash(),
        }
        statement = _CAST_PG[connection is not None, budget.frozen_at is None]
        if connection is not None:
            rows = driver_rows(statement, params, connection)
        else:
            try:
                rows = driver_rows(statement, params)
            except sa.exc.IntegrityError:
                raise Conflict(_("You have already voted in this budget.")) from None
        return tuple(rows[0]) if rows else None

    def cast_unlocked(self, request: CastRequest) -> Cast | None:
        """An access code's first ballot with a valid submission, outside any transaction: the
        budget, its cycle and phases and the code read without a lock, then one statement that locks
        the code, checks it again and writes everything.  None for anything else — an account, an
        unknown budget or code, a submission or ballot to refuse, a code that took part before or
        changed meanwhile: the cast then goes the portable way, under the code's row lock, which
        also says what is wrong.  Nothing is written unless it succeeds."""
        if request.user is not None or not isinstance(request.code_id, int):
            return None
        with autocommit_connection() as connection:
            found = self.load_target(request.budget_id, request.code_id, connection)
            if found is None or not found[0].cycle.is_published:
                return None
            budget, code = found
            # Everything on this one connection: a request that waited for a second one while
            # holding it could exhaust the pool under a burst of requests served by threads.
            proposals = ballot_snapshot(budget, connection)
            submission = request.read(budget, proposals)
            if submission is None:
                return None
            choices, token = submission
            try:
                result = self.cast_first_code_ballot(Voter(code=code), budget, choices, token, connection,
                                                     proposals=proposals, channel=request.channel)
            except DomainError:
                return None  # the locked cast refuses it and says why
        return Cast(budget, proposals, result) if result is not None else None

    def cast_first_code_ballot(self, voter: Voter, budget, choices, token: str, connection: sa.Connection, *,
                               now: datetime | None = None, proposals=None,
                               channel: BallotChannel = BallotChannel.ONLINE) -> casting.CastResult | None:
        """An access code's first ballot in ``budget`` as one statement on ``connection``, outside any
        transaction: stored and committed when this returns.  ``voter`` and ``budget`` were read
        without a lock; the checks are those of :func:`~pbvote.ballots.services.casting.cast_ballot`
        (and raise what it raises), and the statement takes the code's row lock and writes nothing
        unless the code is still usable.  None when nothing was written (the code took part before,
        or changed since it was read): then the locked cast decides, as for any cast."""
        if voter.user is not None:
            raise ValueError("cast_first_code_ballot casts an access code's ballot")
        now = now or casting.utcnow()
        casting.check_token(token)
        choices, values, code = casting.checked_cast(voter, budget, choices, token, now, proposals, channel)
        try:
            written = self.write_first_ballot(voter, budget, choices, values, now, connection)
        except sa.exc.IntegrityError:
            return None  # a unique constraint refused it: the locked cast says why
        return casting.first_ballot_result(written, budget, now, choices, code) if written is not None else None


def store_for(dialect_name: str) -> CoreStore:
    """The store for a database of ``dialect_name`` (chosen once, when the app starts)."""
    return PostgresStore() if dialect_name == "postgresql" else CoreStore()


