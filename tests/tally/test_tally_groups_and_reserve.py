"""Groups of mutually exclusive projects (greedy-exclusive) and Poznań's reserve
(greedy-custom): the rules, their explanations, and how other rules refuse groups."""

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pbvote.tally import RULES, Ballot, Election, Project, TallyError, run_rule
from pbvote.tally.pabulib import PabulibError, dumps, from_election, parse

E = Election(
    budget=100,
    projects=[Project("a", 50), Project("b", 40), Project("c", 30), Project("d", 20)],
    ballots=[Ballot(("a",), None, 9), Ballot(("b",), None, 8), Ballot(("c",), None, 7),
             Ballot(("d",), None, 6)],
)


def reasons(outcome):
    return {p.id: p.reason for p in outcome.projects}


def test_greedy_exclusive_skips_the_rest_of_a_group_once_one_is_funded():
    grouped = replace(E, exclusive_groups=[("a", "b")])
    o = run_rule(grouped, "greedy-exclusive")
    assert o.selected == ("a", "c", "d") and o.notes == ()
    by_id = {p.id: p for p in o.projects}
    assert by_id["b"].details["excluded_by"] == "a"
    assert reasons(o)["b"].startswith("Not funded: project a of the same group of mutually "
                                      "exclusive projects was funded")
    assert run_rule(E, "greedy").selected == ("a", "b")


def test_greedy_exclusive_without_groups_is_greedy_and_says_so():
    o = run_rule(E, "greedy-exclusive")
    assert o.selected == run_rule(E, "greedy").selected
    assert o.notes == ("This election has no groups of mutually exclusive projects, so "
                       "greedy-exclusive counted it as plain greedy.",)


@pytest.mark.parametrize("rule", sorted(set(RULES) - {"greedy-exclusive"}))
def test_rules_that_do_not_honour_groups_refuse_them(rule):
    grouped = replace(E, exclusive_groups=[("a", "b")])
    with pytest.raises(TallyError, match="does not honour.*greedy-exclusive"):
        run_rule(grouped, rule)


def test_groups_are_canonical_and_checked():
    e = replace(E, exclusive_groups=[("b", "a"), ("a", "b"), ["d", "c", "d"]])
    assert e.exclusive_groups == (("a", "b"), ("c", "d"))
    with pytest.raises(ValueError, match="unknown project 'z'"):
        replace(E, exclusive_groups=[("a", "z")])
    with pytest.raises(ValueError, match="at least two"):
        replace(E, exclusive_groups=[("a", "a")])


def test_groups_are_written_and_read_back_as_pbvote_meta():
    grouped = replace(E, exclusive_groups=[("a", "b"), ("c", "d")])
    pb = parse(dumps(from_election(grouped)))
    assert pb.meta_dict["pbvote_exclusive_groups"] == "a,b;c,d"
    assert pb.to_election().exclusive_groups == grouped.exclusive_groups
    bad = dumps(from_election(grouped)).replace("a,b;c,d", "a,zz")
    with pytest.raises(PabulibError, match="unknown project 'zz'") as info:
        parse(bad)
    assert info.value.line is not None


def test_greedy_custom_funds_the_next_project_from_the_reserve_at_80_percent_exactly():
    # a (50) is funded, b (40) does not fit in the 50 left... make b cost 62.5: 80 % exactly
    e = Election(budget=1000, projects=[Project("a", 500), Project("b", 625), Project("c", 10)],
                 ballots=[Ballot(("a",), None, 3), Ballot(("b",), None, 2), Ballot(("c",), None, 1)])
    o = run_rule(e, "greedy-custom")
    assert o.selected == ("a", "b") and o.reserve == ("b",) and o.reserve_used == 125
    assert "500 of its 625 cost was left (80 %, at least 80 %)" in reasons(o)["b"]
    assert "the last one funded (from the reserve); the count stops there" in reasons(o)["c"]
    assert o.parameters["reserve"] == 80
    assert run_rule(e, "greedy-custom", reserve=81).selected == ("a",)
    by_id = {p.id: p for p in o.projects}
    assert by_id["b"].details["reserve"] == 125 and by_id["b"].details["money_left"] == 500


def test_greedy_custom_without_a_project_that_does_not_fit_is_greedy():
    e = replace(E, budget=1000)
    o = run_rule(e, "greedy-custom")
    assert o.selected == ("a", "b", "c", "d") and o.reserve == ()


@pytest.mark.parametrize("bad", [{"reserve": 101}, {"reserve": -1}, {"reserve": "80"},
                                 {"reserve": True}])
def test_reserve_is_a_whole_percentage(bad):
    with pytest.raises(TallyError, match="whole percentage"):
        run_rule(E, "greedy-custom", **bad)


def test_only_greedy_custom_takes_a_reserve():
    with pytest.raises(TallyError, match="takes no reserve"):
        run_rule(E, "greedy", reserve=80)


@st.composite
def reserve_cases(draw):
    m = draw(st.integers(1, 6))
    ids = [f"p{i}" for i in range(m)]
    costs = draw(st.lists(st.integers(0, 60), min_size=m, max_size=m))
    votes = draw(st.lists(st.integers(0, 9), min_size=m, max_size=m))
    budget = draw(st.integers(0, 150))
    ballots = [Ballot((pid,), None, v) for pid, v in zip(ids, votes) if v]
    return Election(budget=budget, projects=[Project(i, c) for i, c in zip(ids, costs)],
                    ballots=ballots), draw(st.integers(0, 100))


@settings(max_examples=100, deadline=None)
@given(reserve_cases())
def test_greedy_custom_is_greedy_no_skip_plus_at_most_the_next_project(case):
    election, percent = case
    plain = run_rule(election, "greedy-no-skip")
    o = run_rule(election, "greedy-custom", reserve=percent)
    assert o.selected[:len(plain.selected)] == plain.selected
    assert len(o.selected) - len(plain.selected) == len(o.reserve) <= 1
    if o.reserve:
        cost = election.project(o.reserve[0]).cost
        left = election.budget - plain.total_cost
        assert left < cost and left * 100 >= percent * cost
        assert o.reserve_used == cost - left
    else:
        assert o.total_cost <= election.budget
