"""Open data: an election exported as a pabulib file with its outcome recounts to the
same outcome, for every rule, ballot type and parameter value - through the engine
(``rule_from_meta``) and through the one command residents run::

    pbvote tally FILE.pb --rule from-file --check-selected      (exit 0)
"""

import itertools
from dataclasses import replace

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pbvote.tally import RULES, Ballot, Election, Project, rule_from_meta, run_rule
from pbvote.tally.pabulib import dumps, from_election, parse
from pbvote.tally.published import FILE_RULES
from pbvote.tally_cli import tally_command

IDS = ["1", "10", "2", "9", "a", "B", "c3", "x"]
VOTE_TYPES = ("approval", "choose-1", "cumulative", "ordinal")


def combos(rule):
    """Every parameter value the rule takes (threshold and reserve: two values)."""
    spec = RULES[rule]
    names = [c.name for c in spec.choices]
    values = [c.values for c in spec.choices]
    if spec.threshold:
        names.append("threshold")
        values.append((1, 3))
    if spec.reserve:
        names.append("reserve")
        values.append((80, 30))
    return [dict(zip(names, vs)) for vs in itertools.product(*values)]


CASES = [(rule, params) for rule in RULES for params in combos(rule)]


@st.composite
def elections(draw, vote_type=None):
    vote_type = vote_type or draw(st.sampled_from(VOTE_TYPES))
    m = draw(st.integers(1, 6))
    ids = IDS[:m]
    scale = draw(st.sampled_from([1, 10]))
    costs = draw(st.lists(st.integers(0, 40 * scale), min_size=m, max_size=m))
    budget = draw(st.integers(0, 100 * scale))
    ballots = []
    for _ in range(draw(st.integers(0, 7))):
        if vote_type == "choose-1":
            chosen = draw(st.lists(st.sampled_from(ids), max_size=1))
        else:
            chosen = draw(st.lists(st.sampled_from(ids), max_size=m, unique=True))
        points = None
        if vote_type == "cumulative":
            points = tuple(draw(st.lists(st.integers(1, 5), min_size=len(chosen),
                                         max_size=len(chosen))))
        ballots.append(Ballot(tuple(chosen), points, draw(st.integers(1, 3))))
    groups = ()
    if m >= 2 and draw(st.booleans()):
        groups = (tuple(draw(st.lists(st.sampled_from(ids), min_size=2, max_size=3, unique=True))),)
    return Election(
        budget=budget, projects=[Project(i, c, name=f"Project {i}; \"quoted\"") for i, c in zip(ids, costs)],
        ballots=ballots, vote_type=vote_type, money_scale=scale,
        max_sum_points=25 if vote_type == "cumulative" else None,
        scoring=draw(st.sampled_from(["borda", "plurality"])) if vote_type == "ordinal" else "borda",
        exclusive_groups=groups,
    )


def fit(election, rule):
    """Groups only where the rule honours them (the others refuse such an election)."""
    return election if RULES[rule].groups else replace(election, exclusive_groups=())


def same(a, b):
    assert a.rule == b.rule and a.selected == b.selected and a.reserve == b.reserve
    assert a.notes == b.notes and a.satisfaction == b.satisfaction
    assert [(p.id, p.cost, p.reason) for p in a.projects] == [(p.id, p.cost, p.reason) for p in b.projects]


def exported(election, outcome) -> str:
    return dumps(from_election(election, outcome))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(elections(), st.sampled_from(CASES))
def test_an_exported_election_recounts_to_the_same_outcome(election, case):
    rule, params = case
    election = fit(election, rule)
    outcome = run_rule(election, rule, **params)
    pb = parse(exported(election, outcome))
    meta = pb.meta_dict
    assert meta["rule"] and meta["pbvote_rule"] == rule
    name, options = rule_from_meta(meta)
    again = run_rule(pb.to_election(), name, **options)
    same(outcome, again)
    marks = pb.selected_values()
    assert {pid for pid, v in marks.items() if v == 1} == set(outcome.selected) - set(outcome.reserve)
    assert {pid for pid, v in marks.items() if v == 2} == set(outcome.reserve)


@pytest.mark.parametrize("vote_type", VOTE_TYPES)
def test_the_recount_command_exits_0_for_every_rule_and_parameter(tmp_path, vote_type):
    election = Election(
        budget=100,
        projects=[Project("1", 40), Project("10", 35), Project("2", 30), Project("9", 25),
                  Project("a", 0)],
        ballots=[Ballot(("1", "2"), (3, 2) if vote_type == "cumulative" else None, 4),
                 Ballot(("10",), (5,) if vote_type == "cumulative" else None, 3),
                 Ballot(("9", "2", "1") if vote_type != "choose-1" else ("9",),
                        ((1, 1, 1) if vote_type != "choose-1" else (1,))
                        if vote_type == "cumulative" else None, 2),
                 Ballot(("a",), (2,) if vote_type == "cumulative" else None, 1)],
        vote_type=vote_type, max_sum_points=10 if vote_type == "cumulative" else None,
    )
    if vote_type == "choose-1":
        election = replace(election, ballots=[b for b in election.ballots if len(b.projects) == 1])
    grouped = replace(election, exclusive_groups=[("1", "10")])
    for rule, params in CASES:
        e = grouped if RULES[rule].groups else election
        outcome = run_rule(e, rule, **params)
        path = tmp_path / f"{rule}.pb"
        path.write_text(exported(e, outcome), encoding="utf-8")
        res = CliRunner().invoke(tally_command, [str(path), "--rule", "from-file",
                                                 "--check-selected", "--format", "json"])
        assert res.exit_code == 0, (rule, params, res.output)
        assert "selected: the rule funds exactly the projects the file marks 1" in res.stderr


def test_pabulib_names_are_written_where_they_exist():
    e = Election(budget=10, projects=[Project("a", 5)], ballots=[Ballot(("a",))])
    expect = [("greedy", {}, "greedy"), ("greedy-custom", {}, "greedy-custom"),
              ("mes", {"completion": "add1"}, "equalshares/add1"),
              ("mes", {"completion": "none"}, "equalshares"),
              ("mes", {"completion": "add1+greedy"}, "unknown"),
              ("mes", {"utility": "approvals"}, "unknown"), ("knapsack", {}, "unknown")]
    for rule, params, name in expect:
        meta = parse(exported(e, run_rule(e, rule, **params))).meta_dict
        assert meta["rule"] == name, (rule, params)
        assert name == "unknown" or FILE_RULES[name][0] == rule
    meta = parse(exported(e, run_rule(e, "mes", completion="add1", tie_break="equalshares"))).meta_dict
    assert meta["pbvote_parameters"] == "completion=add1;tie_break=equalshares;utility=cost"


def test_money_in_cents_keeps_its_scale_so_add1_steps_by_one_cent():
    e = Election(budget=10_000, money_scale=100,  # 100.00, whole euros only
                 projects=[Project("a", 6_000), Project("b", 5_000), Project("c", 3_000)],
                 ballots=[Ballot(("a",), None, 3), Ballot(("b", "c"), None, 2), Ballot(("c",), None, 1)])
    outcome = run_rule(e, "mes", completion="add1")
    pb = parse(exported(e, outcome))
    assert pb.meta_dict["budget"] == "100" and pb.meta_dict["pbvote_money_scale"] == "100"
    assert pb.to_election().money_scale == 100
    same(outcome, run_rule(pb.to_election(), *rule_from_meta(pb.meta_dict)[:1],
                           **rule_from_meta(pb.meta_dict)[1]))
