"""MES add1: every fast method gives the outcome of stepping one unit at a time.

``unit`` is the definition (one MES run per currency unit of share); the
production search (``interval`` on exact runs, ``bounds+auto`` on bound
runs) and the other methods of ``mes_oracles`` must agree with it on the
order funded, the number of unit steps and the final share.
"""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pbvote.tally import Ballot, Election, Project, run_rule
from pbvote.tally.mes.exact import Run
from pbvote.tally.mes.support import Setup
from pbvote.tally.profile import Q, compile_profile

from .mes_oracles import METHODS
from .mes_oracles import add1 as add1_by

IDS = ["1", "10", "2", "9", "a", "B", "c3", "x"]


@st.composite
def elections(draw, max_projects=6):
    m = draw(st.integers(1, max_projects))
    ids = IDS[:m]
    round_costs = draw(st.booleans())  # round costs: exact ties and exact "pays all" cases
    cost = st.sampled_from([0, 5, 10, 10, 15, 20, 30]) if round_costs else st.integers(1, 40)
    costs = draw(st.lists(cost, min_size=m, max_size=m))
    budget = draw(st.integers(1, 200))
    groups = draw(st.lists(
        st.tuples(st.sets(st.sampled_from(ids), min_size=1, max_size=m), st.integers(1, 4)),
        min_size=1, max_size=8))
    ballots = [Ballot(tuple(sorted(s)), None, w) for s, w in groups]
    return Election(budget=budget, projects=[Project(pid, c) for pid, c in zip(ids, costs)],
                    ballots=ballots)


def add1(election, utility, tie_break, method, stats=None, engine="auto"):
    """``(order, unit steps, final share)`` of add1 by ``method`` (``mes_oracles``)."""
    setup = Setup(compile_profile(election), utility, tie_break)
    order, _, naive, final_t = add1_by(setup, method, stats, engine)
    return order, naive, final_t


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(elections(), st.sampled_from(["cost", "approvals"]),
       st.sampled_from(["lexico", "equalshares"]))
def test_fast_add1_methods_equal_unit_steps(election, utility, tie_break):
    expected = add1(election, utility, tie_break, "unit")
    for method in ("jump", "interval", "jump+interval", "bounds", "bounds+interval", "bounds+blocks",
                   "bounds+auto"):
        assert add1(election, utility, tie_break, method) == expected, method


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(elections(max_projects=5), st.lists(st.integers(1, 4), min_size=5, max_size=5))
def test_fast_add1_methods_equal_unit_steps_with_points(election, points):
    """Cumulative ballots: unequal utilities per voter (``points``)."""
    ids = [p.id for p in election.projects]
    ballots = [Ballot(b.projects, tuple(points[ids.index(pid) % 5] for pid in b.projects), b.weight)
               for b in election.ballots]
    election = Election(budget=election.budget, projects=election.projects, ballots=ballots,
                        vote_type="cumulative")
    expected = add1(election, "points", "lexico", "unit")
    for method in ("jump", "interval", "jump+interval", "bounds", "bounds+interval", "bounds+blocks",
                   "bounds+auto"):
        assert add1(election, "points", "lexico", method) == expected, method


def _plan(run, free):
    return [(c, run.rounds[c]["r"] / run.mult[c]) for c in run.order[len(free):]]


def _runs(election, shares):
    setup = Setup(compile_profile(election), "cost", "lexico")

    def make(t):
        return Run(setup, Q(t))

    return make, setup.free, setup.alive


# At share 2 MES funds c then b; at share 3 it funds c, a, b: round 2 changes
# inside [2, 3], so the outcome at 2 cannot be certified on [2, 3].
CHANGING = Election(
    budget=11,
    projects=[Project("a", 4), Project("b", 2), Project("c", 3), Project("d", 9)],
    ballots=[Ballot(("b",), None, 2), Ballot(("a", "c", "d"), None, 2), Ballot(("c",), None, 2),
             Ballot(("c", "d"), None, 1)],
)


def test_certification_fails_where_the_winner_changes_inside_the_interval():
    make, free, alive = _runs(CHANGING, None)
    low = make(2)
    assert [CHANGING.projects[c].id for c in low.run(free, alive)] == ["c", "b"]
    assert [CHANGING.projects[c].id for c in make(3).run(free, alive)] == ["c", "a", "b"]
    plan = _plan(low, free)
    assert make(3).certify(free, alive, plan) == 1  # round 1 (c) holds, round 2 does not
    # a share at which the outcome is the same: the whole run is certified
    same = [t for t in (Q(21, 10), Q(2) + Q(1, 100)) if make(t).run(free, alive) == low.order]
    assert same
    for t in same:
        assert make(t).certify(free, alive, plan) == len(plan) + 1


def test_certification_fails_when_a_project_becomes_affordable_at_the_end():
    # at share 4 only a (cost 6, two supporters) is affordable; at 5, b (cost 5, one
    # supporter) is too: the end of the run is not the same on [4, 5]
    election = Election(budget=12, projects=[Project("a", 6), Project("b", 5)],
                        ballots=[Ballot(("a",), None, 2), Ballot(("b",), None, 1)])
    make, free, alive = _runs(election, None)
    low = make(4)
    assert low.run(free, alive) == [0]
    assert make(5).run(free, alive) == [0, 1]
    assert make(5).certify(free, alive, _plan(low, free)) == 1  # every round, not the end
    assert make(Q(49, 10)).certify(free, alive, _plan(low, free)) == 2


def test_run_rule_reports_runs_and_unit_steps():
    election = Election(budget=11, projects=CHANGING.projects, ballots=CHANGING.ballots)
    outcome = run_rule(election, "mes", completion="add1")
    order, naive, final_t = add1(election, "cost", "lexico", "unit")
    assert [p for p in outcome.selected] == [election.projects[c].id for c in order]
    assert outcome.parameters["naive_mes_runs"] == naive


@pytest.mark.parametrize("method", list(METHODS))
def test_add1_stats_count_runs(method):
    stats = {}
    add1(CHANGING, "cost", "lexico", method, stats)
    assert stats["runs"] >= stats["anchors"] >= 1
    if method == "bounds+blocks":  # a block: one run on top, one at the bottom, the rest between
        assert stats["runs"] >= stats["anchors"] + stats["certify_ok"] + stats["certify_failed"]
        return
    if method == "bounds+auto":  # both kinds of anchors
        return
    assert stats["runs"] == (stats["anchors"] - stats["continued"] + stats["certify_ok"]
                             + stats["certify_failed"])


# Budapest 2024, MES (cost utility) + add1: settled for the first time by the
# interval method (22,002 unit steps; 5,990 MES runs, ~12 min CPU on the
# shared 2-core machine). The stop is at share budget/n + 22,001, whose
# outcome is exhaustive (999,000,000 of 1,000,000,000 spent).
BUDAPEST = "Hungary_Budapest_2024.pb"
BUDAPEST_ORDER = ["583", "571", "587", "545", "552", "553", "582", "555", "542", "572", "544",
                  "425", "588", "561", "540", "569", "598", "428", "597", "458", "573", "594",
                  "526", "557", "596", "506", "480", "595", "559", "446", "467"]
BUDAPEST_STEPS = 22002


def test_budapest_2024_add1_outcome_holds_at_its_final_share(shared):
    """Cheap half of the check: one MES run at the final share gives the
    settled outcome, within budget and exhaustive (why add1 stops there),
    and the share one unit lower is not yet exhaustive."""
    _, election = shared(BUDAPEST)
    profile = compile_profile(election)
    setup = Setup(profile, "cost", "lexico")
    free, alive = setup.free, setup.alive
    base = Q(profile.budget) / profile.n_voters

    def outcome(k):
        order = Run(setup, base + k).run(free, alive)
        spent = sum(profile.costs[c] for c in order)
        rest = set(alive) - set(order)
        return order, spent, all(spent + profile.costs[c] > profile.budget for c in rest)

    order, spent, exhaustive = outcome(BUDAPEST_STEPS - 1)
    assert [profile.ids[c] for c in order] == BUDAPEST_ORDER
    assert spent == 999_000_000 and exhaustive
    _, spent, exhaustive = outcome(BUDAPEST_STEPS - 2)
    assert spent <= profile.budget and not exhaustive


@pytest.mark.very_slow
def test_budapest_2024_add1_settled(shared):
    """The whole add1 loop (about 12 s CPU with the C kernel, 100 s without): ``-m very_slow``."""
    _, election = shared(BUDAPEST)
    outcome = run_rule(election, "mes", utility="cost", completion="add1")
    assert list(outcome.selected) == BUDAPEST_ORDER
    assert outcome.total_cost == 999_000_000
    assert outcome.parameters["naive_mes_runs"] == BUDAPEST_STEPS
