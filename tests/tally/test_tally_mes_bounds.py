"""MES on exact integer bounds (``pbvote.tally.mes.bounds``): the same
outcomes and explanations as the exact rational run, bounds that really hold,
and the exact fallback taken where the bounds cannot decide.

The add1 methods built on it (``bounds``, ``bounds+interval``) are compared
with unit steps in ``test_tally_add1_interval.py``.
"""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pbvote.tally import Ballot, Election, Project, run_rule
from pbvote.tally.mes.exact import Run
from pbvote.tally.mes.support import Setup
from pbvote.tally.profile import Q, compile_profile

bounds = pytest.importorskip("pbvote.tally.mes.bounds")

from .mes_oracles import add1 as add1_by  # noqa: E402
from .test_tally_add1_interval import add1, elections  # noqa: E402


def _setup(election, utility="cost", tie_break="lexico"):
    """``(setup, profile, support, free, alive)`` of an election for MES runs."""
    setup = Setup(compile_profile(election), utility, tie_break)
    return setup, setup.profile, setup.support, setup.free, setup.alive


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(elections(), st.sampled_from(["cost", "approvals"]), st.sampled_from(["lexico", "equalshares"]),
       st.integers(0, 30), st.sampled_from([None, 1 << 20, 1 << 12]))
def test_bound_run_is_the_exact_run_and_its_bounds_hold(election, utility, tie_break, k, limit):
    """Whenever a bounds run returns an outcome it is the exact one, and
    ``lo <= D * money <= hi`` for every group. ``limit`` shrinks ``D`` (coarse
    bounds) so that undecided runs (``None``) and the exact tie-breaking
    paths happen often."""
    setup, profile, support, free, alive = _setup(election, utility, tie_break)
    t = Q(profile.budget) / profile.n_voters + k
    exact = Run(setup, t)
    expected = exact.run(free, alive)
    old = bounds._LIMIT
    if limit is not None:
        bounds._LIMIT = limit
    try:
        run = bounds.BoundRun(setup, t, exact_rounds=True)
        got = run.run(free, alive)
    finally:
        bounds._LIMIT = old
    if got is None:
        return  # undecided: run_mes and add1 then use the exact run
    assert got == expected
    for g in range(support.n_groups):
        money = exact.money[exact.cls[g]]
        assert run.lo[g] <= money * run.D <= run.hi[g]
    if run.explained() is not None:
        assert run.rounds == exact.rounds
        losers = [c for c in alive if c not in exact.rounds]
        assert run.money_left_all(losers) == {c: exact.money_left(c) for c in losers}


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(elections(), st.sampled_from(["cost", "approvals"]), st.sampled_from(["lexico", "equalshares"]),
       st.sampled_from(["none", "greedy", "add1", "add1+greedy"]))
def test_run_rule_mes_fast_equals_exact(election, utility, tie_break, completion):
    """The whole outcome (order, explanations, satisfaction) is the same with
    and without the bounds path."""
    fast = run_rule(election, "mes", utility=utility, completion=completion, tie_break=tie_break)
    plain = run_rule(Election(budget=election.budget, projects=election.projects,
                              ballots=election.ballots),
                     "mes", utility=utility, completion=completion, tie_break=tie_break,
                     engine="exact")
    assert fast.selected == plain.selected
    assert fast.projects == plain.projects
    assert fast.satisfaction == plain.satisfaction
    for key in ("naive_mes_runs", "final_per_voter_share"):
        assert fast.parameters.get(key) == plain.parameters.get(key)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(elections(), st.sampled_from(["cost", "approvals"]), st.sampled_from(["lexico", "equalshares"]))
def test_add1_on_coarse_bounds_equals_unit_steps(election, utility, tie_break):
    """With a tiny ``D`` most decisions fall back (exact ties, exact money,
    whole exact runs): still the outcome of stepping one unit at a time."""
    expected = add1(election, utility, tie_break, "unit")
    old = bounds._LIMIT
    bounds._LIMIT = 1 << 14
    try:
        for method in ("bounds", "bounds+interval", "bounds+blocks", "bounds+auto"):
            assert add1(election, utility, tie_break, method) == expected, method
    finally:
        bounds._LIMIT = old


# two projects with the same number of supporters, all rich: an exact tie in
# round 1 that only the tie-break decides ("a" before "b" in lexico order)
# (each pays a third of the cost: the bounds of p* are a unit of 1/D apart)
TIE = Election(budget=70, projects=[Project("a", 10), Project("b", 20), Project("c", 30)],
               ballots=[Ballot(("a",), None, 3), Ballot(("b",), None, 3), Ballot(("c",), None, 1)])


def test_exact_ties_are_settled_without_the_rational_run():
    setup, profile, support, free, alive = _setup(TIE)
    run = bounds.BoundRun(setup, Q(10))
    assert [profile.ids[c] for c in run.run(free, alive)] == ["a", "b"]
    assert run.rounds[0][2] is not None  # round 1 was decided by exact rho, not by bounds
    stats = {}
    assert setup.base == Q(10)
    order, *_ = add1_by(setup, "bounds", stats)
    assert stats["exact_runs"] == 0


# c's three supporters hold exactly its cost at share 31/3: with D = 1 the
# bounds (10 or 11 each) cannot tell whether it is affordable
EDGE = Election(budget=31, projects=[Project("c", 31)], ballots=[Ballot(("c",), None, 3)])


def test_undecided_run_falls_back_to_the_exact_run():
    setup, profile, support, free, alive = _setup(EDGE)
    old = bounds._LIMIT
    bounds._LIMIT = 4  # D = 1: money bounds a whole unit apart
    try:
        run = bounds.BoundRun(setup, Q(31, 3))
        assert run.D == 1 and run.run(free, alive) is None
        stats = {}
        assert add1(EDGE, "cost", "lexico", "bounds", stats) == add1(EDGE, "cost", "lexico", "unit")
        assert stats["exact_runs"] >= 1
        assert run_rule(EDGE, "mes").selected == ("c",)
    finally:
        bounds._LIMIT = old


@pytest.mark.parametrize("name", ["Poland_Swiecie_2023.pb", "Netherlands_Assen_2024.pb"])
def test_shared_add1_needs_no_exact_run(shared, references, name):
    """On real elections the bounds decide every run (the fast path is the one taken)."""
    _, election = shared(name)
    setup, profile, support, free, alive = _setup(election)
    stats = {}
    order, _, naive, _ = add1_by(setup, "bounds+auto", stats)
    assert stats["exact_runs"] == 0
    ref = references[1][name]["mes_cost_add1"]
    assert sorted(profile.ids[c] for c in order) == sorted(ref["selected"])
    assert naive == ref["mes_runs"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(elections(), st.sampled_from(["none", "add1"]))
def test_without_numpy_the_exact_path_gives_the_same(election, completion):
    """``pbvote.tally`` works without numpy (``engine="exact"`` is then what ``auto`` takes)."""
    fast = run_rule(election, "mes", completion=completion)
    plain = run_rule(election, "mes", completion=completion, engine="exact")
    assert (fast.selected, fast.projects) == (plain.selected, plain.projects)


@settings(max_examples=100, deadline=None)
@given(elections(), st.sets(st.integers(0, 7)))
def test_satisfaction_histogram_with_and_without_numpy(election, picked):
    import pbvote.tally as tally

    profile = compile_profile(election)
    chosen = {c for c in picked if c < profile.m}
    fast = tally.satisfaction(profile, chosen)
    saved, tally._np = tally._np, None
    try:
        assert tally.satisfaction(profile, chosen) == fast
    finally:
        tally._np = saved


def test_amounts_beyond_int64_use_the_exact_run():
    huge = Election(budget=4 * 10**20, projects=[Project("a", 3 * 10**20), Project("b", 10**20)],
                    ballots=[Ballot(("a",), None, 3), Ballot(("b",), None, 1)])
    setup, profile, support, free, alive = _setup(huge)
    assert bounds.BoundRun(setup, Q(10**20)).run(free, alive) is None
    assert add1(huge, "cost", "lexico", "bounds+auto") == add1(huge, "cost", "lexico", "unit")
    assert run_rule(huge, "mes").selected == ("a", "b")
