"""Random small elections: same outcomes as pabutools, knapsack optimal.

Hypothesis draws elections with up to 7 projects (knapsack: up to 14) and
a few ballot groups; pabutools 1.2.3 (a test dependency) is the reference,
with its default lexicographic tie-breaking by project id.
"""

from itertools import combinations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pbvote.tally import Ballot, Election, Project, run_rule

pabutools = pytest.importorskip("pabutools")
from pabutools.election import (  # noqa: E402
    ApprovalBallot,
    ApprovalProfile,
    Cardinality_Sat,
    Cost_Sat,
    Instance,
)
from pabutools.election import Project as PbProject  # noqa: E402
from pabutools.rules import (  # noqa: E402
    greedy_utilitarian_welfare,
    method_of_equal_shares,
    sequential_phragmen,
)

# ids chosen so that string order differs from number order ("10" < "9")
IDS = ["1", "10", "2", "9", "a", "B", "c3", "x", "11", "20", "3", "4", "5", "6"]


@st.composite
def elections(draw, max_projects=7, max_cost=40, max_groups=6, max_weight=3, round_costs=False):
    m = draw(st.integers(1, max_projects))
    ids = IDS[:m]
    cost = st.sampled_from([5, 10, 10, 15, 20, 30]) if round_costs else st.integers(1, max_cost)
    costs = draw(st.lists(cost, min_size=m, max_size=m))
    budget = draw(st.integers(1, max_cost * 3))
    groups = draw(st.lists(
        st.tuples(st.sets(st.sampled_from(ids), min_size=1, max_size=m),
                  st.integers(1, max_weight)),
        min_size=1, max_size=max_groups))
    ballots = [Ballot(tuple(sorted(s)), None, w) for s, w in groups]
    projects = [Project(pid, c) for pid, c in zip(ids, costs)]
    return Election(budget=budget, projects=projects, ballots=ballots)


def to_pabutools(election):
    projects = {p.id: PbProject(p.id, p.cost) for p in election.projects}
    instance = Instance(projects.values(), budget_limit=election.budget)
    ballots = []
    for b in election.ballots:
        for _ in range(b.weight):
            ballots.append(ApprovalBallot([projects[pid] for pid in b.projects]))
    return instance, ApprovalProfile(ballots, instance=instance)


def names(allocation):
    return sorted(p.name for p in allocation)


FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(elections())
def test_greedy_matches_pabutools(election):
    instance, profile = to_pabutools(election)
    ours = run_rule(election, "greedy", utility="cost")
    theirs = greedy_utilitarian_welfare(instance, profile, sat_class=Cost_Sat)
    assert sorted(ours.selected) == names(theirs)
    per_cost = run_rule(election, "greedy-per-cost", utility="approvals")
    theirs = greedy_utilitarian_welfare(instance, profile, sat_class=Cardinality_Sat)
    assert sorted(per_cost.selected) == names(theirs)


@FAST
@given(elections(), st.sampled_from(["cost", "approvals"]))
def test_mes_matches_pabutools(election, utility):
    instance, profile = to_pabutools(election)
    sat = Cost_Sat if utility == "cost" else Cardinality_Sat
    ours = run_rule(election, "mes", utility=utility)
    theirs = method_of_equal_shares(instance, profile, sat_class=sat)
    assert list(ours.selected) == [p.name for p in theirs]
    filled = run_rule(election, "mes", utility=utility, completion="greedy")
    theirs_filled = greedy_utilitarian_welfare(instance, profile, sat_class=sat,
                                               initial_budget_allocation=theirs)
    assert sorted(filled.selected) == names(theirs_filled)


@FAST
@given(st.one_of(elections(max_cost=30, max_groups=5), elections(round_costs=True)))
def test_mes_add1_matches_pabutools(election):
    """Round costs make exact ties and exact "pays everything" cases frequent."""
    instance, profile = to_pabutools(election)
    ours = run_rule(election, "mes", completion="add1")
    theirs = method_of_equal_shares(instance, profile, sat_class=Cost_Sat,
                                    voter_budget_increment=1)
    assert list(ours.selected) == [p.name for p in theirs]
    filled = run_rule(election, "mes", completion="add1+greedy")
    theirs_filled = greedy_utilitarian_welfare(instance, profile, sat_class=Cost_Sat,
                                               initial_budget_allocation=theirs)
    assert sorted(filled.selected) == names(theirs_filled)


@FAST
@given(elections())
def test_phragmen_matches_pabutools(election):
    instance, profile = to_pabutools(election)
    ours = run_rule(election, "phragmen")
    theirs = sequential_phragmen(instance, profile)
    assert sorted(ours.selected) == names(theirs)


def brute_force_optimum(election, values):
    best = 0
    items = list(range(len(election.projects)))
    costs = [p.cost for p in election.projects]
    for k in range(1, len(items) + 1):
        for subset in combinations(items, k):
            if sum(costs[i] for i in subset) <= election.budget:
                best = max(best, sum(values[i] for i in subset))
    return best


@settings(max_examples=40, deadline=None)
@given(elections(max_projects=14, max_cost=60, max_groups=8), st.sampled_from(["cost", "approvals"]))
def test_knapsack_is_optimal_by_brute_force(election, utility):
    outcome = run_rule(election, "knapsack", utility=utility)
    votes = {p.id: 0 for p in election.projects}
    for b in election.ballots:
        for pid in b.projects:
            votes[pid] += b.weight
    values = [votes[p.id] * (p.cost if utility == "cost" else 1) for p in election.projects]
    value_of = dict(zip((p.id for p in election.projects), values))
    assert outcome.total_cost <= election.budget
    assert sum(value_of[pid] for pid in outcome.selected) == brute_force_optimum(election, values)
    assert outcome.parameters["welfare"] == brute_force_optimum(election, values)


# cases where a voter's money hits exactly 0 while it still grows with the
# share (found by fuzzing an earlier version of the add1 jumps)
EXACT_ZERO_CASES = [
    ([10, 10, 5, 10, 10, 10], 50, [(("3",), 1), (("0", "1", "4", "5"), 1)]),
    ([10, 10, 10, 5, 5, 10, 10], 40, [(("1", "6"), 2), (("2", "3"), 1), (("1", "4", "6"), 2)]),
    ([10, 5, 10, 5, 5, 10, 15], 53, [(("0", "1", "4", "6"), 2), (("0", "1", "2", "3", "4", "5", "6"), 1)]),
]


@pytest.mark.parametrize("costs, budget, groups", EXACT_ZERO_CASES)
def test_mes_add1_when_money_reaches_exactly_zero(costs, budget, groups):
    ids = [str(i) for i in range(len(costs))]
    election = Election(budget=budget, projects=[Project(i, c) for i, c in zip(ids, costs)],
                        ballots=[Ballot(p, None, w) for p, w in groups])
    instance, profile = to_pabutools(election)
    theirs = method_of_equal_shares(instance, profile, sat_class=Cost_Sat, voter_budget_increment=1)
    assert list(run_rule(election, "mes", completion="add1").selected) == [p.name for p in theirs]
