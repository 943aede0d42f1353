"""A budget's countable ballots as the tally engine's input: read as plain rows, kept while they hold.

The one bridge between the database and :mod:`pbvote.tally`: every channel's ballots (online,
paper, kiosk) and the projects on the ballot (:func:`pbvote.proposals.services.ballot_proposals`)
become one exact, immutable :class:`~pbvote.tally.Election`, which feeds the staff preview (several
rules side by side), the open-data export and the published result.

**The fast path and what it saves.**  Counting Łódź 2022 (90,494 ballots, 325,964 choices, 160
projects) as ORM ballots with their choices took 10.8 s before a rule ran.  :func:`engine_ballots`
asks the database for each distinct ballot once with its count
(:func:`pbvote.ballots.services.countable_ballot_contents`, one SELECT of ~23,600 rows), builds the
engine's ballot of each straight from the ids (no object per choice), and merges what differs only
in the order of choices.  :func:`counted_election` then keeps the counted election (with the profile
the rules compile from it) per budget, keyed on a fingerprint of the countable ballots
(:func:`pbvote.ballots.services.countable_ballots_fingerprint`: count, largest and summed id): paper
ballots may still be keyed or corrected after voting closes, and any such change changes the
fingerprint, so a stale election is never served.  Figures: ``bench/preview.py`` and
docs/architecture.md ("Counting").

**How it stays equivalent.**  The plain path (:func:`plain_engine_ballots`: ORM ballots from
:func:`~pbvote.ballots.services.countable_ballots` through the kind's
:meth:`~pbvote.ballots.kinds.base.BallotKind.engine_ballot`) and the fast path share the kind's
:meth:`~pbvote.ballots.kinds.base.BallotKind.engine_ballot_of` and the engine's canonical
:func:`~pbvote.tally.group_ballots`; tests build both on random elections of every ballot type and
on a real pabulib file and require equal elections and equal outcomes, and check that a ballot
added, voided or corrected after close reaches the cached preview.  Publishing reads the ballots
afresh (``fresh=True``): a frozen result never rests on the cache.
"""
from __future__ import annotations

import gc
import threading
from collections import OrderedDict
from contextlib import contextmanager
from dataclasses import replace

from babel.numbers import get_currency_precision
from flask import current_app

from pbvote import tally
from pbvote.ballots.kinds import kind_of
from pbvote.ballots.kinds.base import BallotKind
from pbvote.ballots.services import countable_ballot_contents, countable_ballots, countable_ballots_fingerprint
from pbvote.cycles.models import Budget
from pbvote.proposals.services import ballot_proposals, tally_groups
from pbvote.tally.published import pabulib_name

#: How many budgets' counted elections an app keeps (the latest used stay).
CACHE_SIZE = 8
_CACHE_KEY = "pbvote.results.counted"
_lock = threading.Lock()


def engine_ballots(budget: Budget, kind: BallotKind, on_ballot: set[int]) -> tuple[tally.Ballot, ...]:
    """The budget's countable ballots as the engine's grouped ballots, from plain rows (the fast path).

    Choices of projects no longer on the ballot are left out; a ballot left empty is not counted.
    """
    ballots = []
    append = ballots.append
    issuperset = on_ballot.issuperset
    build = kind.engine_ballot_of
    for ids, values, weight in countable_ballot_contents(budget):
        if not issuperset(ids):
            kept = [i for i, pid in enumerate(ids) if pid in on_ballot]
            if not kept:
                continue
            ids = [ids[i] for i in kept]
            values = None if values is None else [values[i] for i in kept]
        append(build(ids, values, weight))
    return tally.group_ballots(ballots)


def plain_engine_ballots(budget: Budget, kind: BallotKind, on_ballot: set[int]) -> tuple[tally.Ballot, ...]:
    """The same ballots the straightforward way: every ballot an ORM object with its choices.

    The reference :func:`engine_ballots` is tested against (about 15 times slower on a city's vote).
    """
    ballots = []
    for ballot in countable_ballots(budget):
        choices = [choice for choice in ballot.choices if choice.proposal_id in on_ballot]
        if choices:
            ballots.append(kind.engine_ballot(choices))
    return tally.group_ballots(ballots)


def election_for_budget(budget: Budget, *, plain: bool = False) -> tally.Election:
    """The budget's projects and countable ballots as the engine's exact, immutable input.

    Amounts in the currency's smallest unit (see :func:`counting_election` for the unit the
    ballot file states them in).  ``plain``: read the ballots the straightforward way (tests).
    """
    proposals = ballot_proposals(budget)
    kind = kind_of(budget)
    read = plain_engine_ballots if plain else engine_ballots
    return _election(budget, proposals, read(budget, kind, {proposal.id for proposal in proposals}))


def _election(budget: Budget, proposals, ballots: tuple[tally.Ballot, ...]) -> tally.Election:
    kind = kind_of(budget)
    cycle = budget.cycle
    return tally.Election(
        budget=budget.total_amount,
        projects=tuple(
            tally.Project(id=str(p.id), cost=p.ballot_amount, name=p.title,
                          category=p.category.name if p.category else "")
            for p in proposals
        ),
        ballots=ballots,
        vote_type=kind.vote_type,
        money_scale=10 ** get_currency_precision(cycle.currency),
        min_length=budget.min_choices or None,
        max_length=budget.max_choices,
        max_sum_points=kind.max_sum_points(budget),
        min_project_score_threshold=(budget.tally_params or {}).get("threshold"),
        # projects that cannot all be built (frozen with the first ballot, like the rest of the budget)
        exclusive_groups=tally_groups(budget),
        meta={
            "description": f"{cycle.name}: {budget.name}",
            "unit": budget.district.name if budget.district else cycle.name,
            "instance": cycle.slug,
            "currency": cycle.currency,
            "rule": file_rule(budget),
            "pbvote_rule": budget.tally_rule,
            "pbvote_parameters": ";".join(f"{k}={v}" for k, v in sorted((budget.tally_params or {}).items())),
        },
    )


def counting_election(election: tally.Election) -> tuple[tally.Election, int]:
    """The election as its ballot file states it, and the factor back to the currency's smallest unit.

    Amounts are divided by the largest power of ten that divides them all (a city's whole-euro
    costs count in euros, not cents): exactly the election that ``pbvote tally`` reads back from the
    exported file.  It matters where a rule steps one money unit at a time (MES + add1 raises each
    voter's share by one unit): counted in cents, the web would take other steps than the recount,
    and be 100 times slower.  Multiply the outcome's amounts by the factor to show them.
    """
    amounts = [election.budget, *(p.cost for p in election.projects)]
    if election.max_sum_cost is not None:
        amounts.append(election.max_sum_cost)
    factor = election.money_scale
    while factor > 1 and any(amount % factor for amount in amounts):
        factor //= 10
    if factor <= 1:
        return election, 1
    return replace(
        election,
        budget=election.budget // factor,
        projects=tuple(replace(p, cost=p.cost // factor) for p in election.projects),
        money_scale=election.money_scale // factor,
        max_sum_cost=election.max_sum_cost // factor if election.max_sum_cost is not None else None,
    ), factor


def counted_election(budget: Budget, *, fresh: bool = False) -> tuple[tally.Election, int]:
    """:func:`counting_election` of the budget's election, from this app's cache while its ballots,
    projects and rules are unchanged (``fresh``: read the ballots again and refresh the cache).

    The key holds everything but the ballots (the election built without them: projects, costs,
    limits, rule, currency) and the fingerprint of the countable ballots; the ballots are read only
    when either differs.  The cached election carries its compiled profile, so the rules' shared
    preparation is done once too.
    """
    proposals = ballot_proposals(budget)
    skeleton = _election(budget, proposals, ())
    key = (budget.id, countable_ballots_fingerprint(budget), skeleton)
    cache = _cache()
    if not fresh:
        with _lock:
            hit = cache.get(key)
            if hit is not None:
                cache.move_to_end(key)
                return hit
    with _collector_paused():
        ballots = engine_ballots(budget, kind_of(budget), {proposal.id for proposal in proposals})
        counted = counting_election(replace(skeleton, ballots=ballots))
        tally.compile_profile(counted[0])  # kept on the election: every rule and request reuses it
    with _lock:
        for stale in [k for k in cache if k[0] == budget.id]:
            del cache[stale]
        cache[key] = counted
        while len(cache) > CACHE_SIZE:
            cache.popitem(last=False)
    return counted


@contextmanager
def _collector_paused():
    """Python's cyclic garbage collector paused while the ~100,000 tuples of a city's ballots are
    built (none of them forms a cycle): otherwise it walks the whole heap a few times for nothing,
    a sixth of the cold preview's time on Łódź 2022."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def clear_cache() -> None:
    """Forget every counted election of this app (benchmarks time cold runs with it)."""
    with _lock:
        _cache().clear()


def _cache() -> OrderedDict:
    return current_app.extensions.setdefault(_CACHE_KEY, OrderedDict())


def file_rule(budget: Budget) -> str:
    """The pabulib META ``rule`` naming the budget's tally rule where pabulib has a name for it
    (the engine's registry says: :func:`pbvote.tally.published.pabulib_name`), else ``""``."""
    spec = tally.RULES.get(budget.tally_rule)
    if spec is None:
        return ""
    params = {choice.name: choice.default for choice in spec.choices if choice.default is not None}
    params.update(budget.tally_params or {})
    return pabulib_name(budget.tally_rule, params) or ""
