"""After the vote: the ballots the tally counts, sealing (forgetting which ballot was whose) and the
anonymised export of a cycle's ballots."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import selectinload

from pbvote import audit
from pbvote.ballots.kinds import kind_of
from pbvote.ballots.models import Ballot, BallotChoice
from pbvote.ballots.services.receipts import ballot_state
from pbvote.cycles.models import Budget, Cycle, Phase, PhaseKind
from pbvote.errors import PhaseClosed
from pbvote.extensions import db
from pbvote.timeutil import utcnow


def _countable(budget: Budget):
    """The condition of :func:`countable_ballots`, shared with the plain-row readers."""
    return sa.and_(Ballot.budget_id == budget.id, Ballot.superseded_at.is_(None), Ballot.voided_at.is_(None))


def countable_ballots(budget: Budget) -> Iterator[Ballot]:
    """The ballots of ``budget`` the tally counts: every channel, neither superseded nor voided.

    The single source of ballots for the tally, online and paper alike.  Choices come preloaded.
    """
    statement = (
        sa.select(Ballot)
        .where(_countable(budget))
        .order_by(Ballot.id)
        .options(selectinload(Ballot.choices))
    )
    yield from db.session.scalars(statement)


def countable_ballot_contents(budget: Budget) -> Iterator[tuple[tuple[int, ...], tuple[int | None, ...] | None, int]]:
    """The contents of :func:`countable_ballots` as plain values, identical ballots once with their
    count: ``(proposal ids, values, weight)``; ``values`` holds the number the budget's ballot kind
    gives the engine (:attr:`~pbvote.ballots.kinds.base.BallotKind.engine_value`: points, ranks),
    in the order of the ids, or is None for ticks.  Choices come in no particular order.

    What the tally reads (:mod:`pbvote.results.counting`).  Building 90,000 ballots with their
    326,000 choices as ORM objects took ~10 s; here the database joins each ballot's choices into
    one string (``"12,15,40"``, or ``"12:3,15:1"`` with values) and counts identical strings: one
    SELECT returning a few ten thousand rows, each parsed once.  A ballot without choices is not
    counted.  The countable rule is the one of :func:`countable_ballots`; a test holds the two equal.
    """
    column = kind_of(budget).engine_value
    token = sa.cast(BallotChoice.proposal_id, sa.String)
    if column is not None:
        token = token + ":" + sa.func.coalesce(sa.cast(getattr(BallotChoice, column), sa.String), "")
    # the ballots' ids as an IN subquery rather than a join: SQLite then walks the choices'
    # primary key in order without a temporary B-tree (a sixth less time); PostgreSQL plans both alike
    per_ballot = (
        sa.select(sa.func.aggregate_strings(token, ",").label("contents"))
        .where(BallotChoice.ballot_id.in_(sa.select(Ballot.id).where(_countable(budget))))
        .group_by(BallotChoice.ballot_id)
        .subquery()
    )
    statement = sa.select(per_ballot.c.contents, sa.func.count()).group_by(per_ballot.c.contents)
    rows = db.session.connection().execute(statement)
    if column is None:
        for contents, weight in rows:
            yield tuple(map(int, contents.split(","))), None, weight
        return
    for contents, weight in rows:
        ids, values = [], []
        for item in contents.split(","):
            proposal_id, _sep, value = item.partition(":")
            ids.append(int(proposal_id))
            values.append(int(value) if value else None)
        yield tuple(ids), tuple(values), weight


def countable_ballots_fingerprint(budget: Budget) -> tuple[int, int, int]:
    """``(count, largest id, sum of ids)`` of the budget's countable ballots: one indexed aggregate.

    Ballots are append-only (a correction voids a row and adds a new one; nothing deletes a ballot
    or changes its choices), so the set of countable ballots, and with it what the tally reads,
    changes exactly when this changes: a new ballot raises the largest id, a void lowers the count.
    What a cache of counted ballots is keyed on (:mod:`pbvote.results.counting`).
    """
    count, largest, total = db.session.execute(
        sa.select(sa.func.count(Ballot.id), sa.func.max(Ballot.id), sa.func.sum(Ballot.id)).where(_countable(budget))
    ).one()
    return count, largest or 0, int(total or 0)


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


def seal_closed_cycles(now: datetime | None = None) -> list[tuple[Cycle, int]]:
    """Seal every cycle whose voting has closed by ``now`` and that still has a ballot linked to its
    voter (:func:`seal_voter_links`); the cycles and how many ballots each had unlinked.

    For the cron job (``pbvote seal-ballots``): a phase that simply ends by date is sealed there;
    advancing a cycle out of voting seals it at once (:mod:`pbvote.ballots.listeners`).
    """
    now = now or utcnow()
    still_linked = (
        sa.select(Ballot.id)
        .join(Budget, Ballot.budget_id == Budget.id)
        .where(Budget.cycle_id == Cycle.id, Ballot.participation_id.is_not(None))
        .exists()
    )
    cycles = db.session.scalars(
        sa.select(Cycle).join(Phase).where(Phase.kind == PhaseKind.VOTING, Phase.ends_at <= now, still_linked)
    ).all()
    return [(cycle, seal_voter_links(cycle, now)) for cycle in cycles]


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
