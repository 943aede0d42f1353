"""The tally rules staff can choose are exactly what the engine runs, with parameters it accepts."""
from __future__ import annotations

import pytest

from pbvote import tally
from pbvote.cycles import rules
from pbvote.tally import Ballot, Election, Project, run_rule


def test_every_rule_staff_can_choose_is_in_the_engine_and_vice_versa():
    assert set(rules.RULES) == set(tally.RULES)


def test_parameter_values_are_the_engines():
    assert set(rules.PARAMS["completion"]) == set(tally.COMPLETIONS)
    assert set(rules.PARAMS["tie_break"]) == set(tally.TIE_BREAKS)
    assert set(rules.PARAMS["utility"]) <= set(tally.UTILITIES)


@pytest.mark.parametrize("rule_name", sorted(rules.RULES))
def test_each_rule_runs_with_its_normalised_default_parameters(rule_name):
    election = Election(
        budget=100,
        projects=(Project("a", 60), Project("b", 50), Project("c", 40)),
        ballots=(Ballot(("a",)), Ballot(("a", "c")), Ballot(("b", "c"))),
    )
    params = rules.normalise_params(rule_name, {})
    if rule_name == "greedy-threshold":
        params["threshold"] = 1
    outcome = run_rule(election, rule_name, **params)
    assert outcome.total_cost <= 100 and outcome.selected
