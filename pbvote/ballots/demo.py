"""Votes for the demo city: a few hundred ballots already cast, and access codes to try voting.

Deterministic: the demo's codes come from a seeded generator (never do this outside the demo —
real codes come from :func:`pbvote.ballots.services.generate_access_codes`, which uses the
operating system's CSPRNG), and the ballots are cast through the same service as real ones.
"""
from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Callable

import sqlalchemy as sa

from pbvote.ballots import services
from pbvote.ballots.models import AccessCode, AccessCodeBatch, Participation
from pbvote.ballots.services import Choice, Voter
from pbvote.ballots.kinds import kind_of
from pbvote.cycles.models import Cycle, PhaseKind
from pbvote.extensions import db

#: Demo access codes for Riverside (its budget and the city-wide one): voters, then spares to print.
DEMO_VOTERS = 300
DEMO_SPARE_CODES = 5
DEMO_DISTRICT = "riverside"


def demo_codes() -> list[str]:
    """The demo's access codes, the same every time."""
    rng = random.Random("pbvote-demo-access-codes")
    return [
        "".join(rng.choice(services.CODE_ALPHABET) for _ in range(services.ACCESS_CODE_LENGTH))
        for _ in range(DEMO_VOTERS + DEMO_SPARE_CODES)
    ]


def _pick(rng: random.Random, budget, proposals) -> list[Choice]:
    """A plausible ballot: popular projects more often, within the budget's rule."""
    # Supported projects are picked more often, but every project has a chance (a cycle without
    # supports, like last year's demo cycle, must not give every voter the same ballot).
    return kind_of(budget).sample(rng, budget, proposals, weight=lambda p: p.support_count or 0)


def _code_batch(cycle: Cycle, district_id: int, codes: list[str], label: str) -> dict[str, AccessCode]:
    """Store ``codes`` as a batch for a district; returns them by clear code."""
    batch = AccessCodeBatch(cycle_id=cycle.id, district_id=district_id, label=label, size=len(codes))
    db.session.add(batch)
    db.session.flush()
    rows = []
    for code in codes:
        digest = services.hash_access_code(code)
        rows.append({"batch_id": batch.id, "lookup": digest[: services.LOOKUP_LENGTH], "code_hash": digest})
    db.session.execute(sa.insert(AccessCode), rows)
    by_hash = {c.code_hash: c for c in db.session.scalars(sa.select(AccessCode).where(AccessCode.batch_id == batch.id))}
    return {code: by_hash[services.hash_access_code(code)] for code in codes}


def _cast_demo_ballots(cycle: Cycle, district_slug: str, codes: list[str], seed: int, until: datetime) -> int:
    """Each code votes in its district's budget, two in three also city-wide, at moments spread over
    the voting phase up to ``until`` — through the real cast service."""
    district_budget = next(b for b in cycle.budgets if b.district is not None and b.district.slug == district_slug)
    citywide = next(b for b in cycle.budgets if b.district_id is None)
    voters = _code_batch(cycle, district_budget.district_id, codes, "Demo letters")
    rng = random.Random(seed)
    opened = cycle.phase(PhaseKind.VOTING).starts_at
    span = (until - opened).total_seconds()
    proposals = {b.id: services.ballot_proposals(b) for b in (district_budget, citywide)}
    moments = sorted(opened + timedelta(seconds=rng.uniform(0, span - 60)) for _ in codes)
    cast = 0
    for index, (code, moment) in enumerate(zip(codes, moments)):
        voter = Voter(code=voters[code])
        budgets = [district_budget] + ([citywide] if index % 3 else [])
        for budget in budgets:
            token = f"demo-ballot-{seed}-{index:05d}-{budget.id:04d}-pbvote"
            services.cast_ballot(voter, budget, _pick(rng, budget, proposals[budget.id]), token, now=moment,
                                 proposals=proposals[budget.id])
            cast += 1
    return cast


def add_demo_ballots(cycle: Cycle, now: datetime) -> int:
    """Cast the demo's ballots in ``cycle`` (flushes; the demo loader commits).  Returns the count.

    The spare codes (see :func:`print_demo_codes`) are stored with the voters' but left unused.
    """
    codes = demo_codes()
    cast = _cast_demo_ballots(cycle, DEMO_DISTRICT, codes[:DEMO_VOTERS], 2027, now)
    _code_batch(cycle, next(b.district_id for b in cycle.budgets if b.district and b.district.slug == DEMO_DISTRICT),
                codes[DEMO_VOTERS:], "Demo spare letters")
    return cast


def add_past_ballots(cycle: Cycle, district_slug: str, voters: int) -> int:
    """Ballots for a cycle whose voting has closed, then sealed (voters unlinked from ballots)."""
    rng = random.Random(f"pbvote-demo-past-{cycle.slug}")
    codes = ["".join(rng.choice(services.CODE_ALPHABET) for _ in range(services.ACCESS_CODE_LENGTH)) for _ in range(voters)]
    cast = _cast_demo_ballots(cycle, district_slug, codes, 2026, cycle.phase(PhaseKind.VOTING).ends_at)
    services.seal_voter_links(cycle)
    return cast


def unused_demo_codes() -> list[str]:
    """The spare demo codes nobody has voted with, redeemed into an account or cancelled yet."""
    unused = []
    for code in demo_codes()[DEMO_VOTERS:]:
        row = services.find_access_code(code)
        if row is None or row.is_void or row.redeemed_at is not None:
            continue
        if db.session.scalar(sa.select(Participation.id).where(Participation.access_code_id == row.id).limit(1)) is None:
            unused.append(code)
    return unused


def print_demo_codes(echo: Callable[[str], None]) -> None:
    """Print the demo access codes still unused (to vote without an account), or say none is left."""
    codes = unused_demo_codes()
    echo("")
    if not codes:
        echo("Every demo access code has been used; staff can make more under Manage cycles → Access codes.")
        return
    echo("Demo access codes, unused (vote without an account at /vote/code; Riverside and City-wide):")
    for code in codes:
        echo(f"  {services.format_code(code)}")
