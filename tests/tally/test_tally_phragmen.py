"""Sequential Phragmén is exact: its order is the one computed with exact
fractions voter by voter (pabutools sorts its outcome, so the property tests
against it compare sets only)."""

from fractions import Fraction

from hypothesis import HealthCheck, given, settings

from pbvote.tally import Ballot, Election, Project, run_rule

from .test_tally_properties import elections


def exact_phragmen(election: Election) -> list[str]:
    """The rule by its definition, one voter at a time, with ``Fraction``."""
    voters = [set(b.projects) for b in election.ballots for _ in range(b.weight)]
    load = [Fraction(0)] * len(voters)
    cost = {p.id: p.cost for p in election.projects}
    remaining = {p for p in cost if cost[p] <= election.budget}
    order, spent = [], 0
    while remaining:
        new = {}
        for p in remaining:
            supporters = [i for i, v in enumerate(voters) if p in v]
            if supporters:
                new[p] = (sum(load[i] for i in supporters) + cost[p]) / len(supporters)
        tied = sorted(p for p in new if new[p] == min(new.values())) if new else sorted(remaining)
        if any(spent + cost[p] > election.budget for p in tied):
            break
        f = tied[0]
        order.append(f)
        spent += cost[f]
        remaining.discard(f)
        for i, v in enumerate(voters):
            if f in v:
                load[i] = new[f]
    return order


# Loads of 1/3, 1/6 ... summed in floats broke an exact tie here (the engine
# used to compute loads in floats after the first round): p0 came after p4.
FLOAT_TIE = Election(
    budget=22,
    projects=[Project("p0", 3), Project("p1", 10), Project("p2", 6), Project("p3", 30),
              Project("p4", 2), Project("p5", 2)],
    ballots=[Ballot(("p0", "p1", "p2", "p3", "p4", "p5"), None, 6),
             Ballot(("p0", "p1", "p2", "p3", "p5"), None, 3)],
)


def test_phragmen_breaks_exact_ties_by_the_tie_break_not_by_rounding():
    assert list(run_rule(FLOAT_TIE, "phragmen").selected) == exact_phragmen(FLOAT_TIE)


def test_phragmen_loads_are_exact():
    outcome = run_rule(FLOAT_TIE, "phragmen")
    loads = {p.id: p.details["load"] for p in outcome.projects if p.selected}
    assert loads["p5"] == round(2 / 9, 4)  # not truncated to 0


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(elections(max_cost=40, max_weight=10))
def test_phragmen_order_is_the_exact_rules(election):
    assert list(run_rule(election, "phragmen").selected) == exact_phragmen(election)
