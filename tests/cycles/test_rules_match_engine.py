"""The tally rules staff can choose are exactly what the engine runs, with parameters it accepts."""
from __future__ import annotations

import itertools

import pytest

from pbvote import tally
from pbvote.cycles import rules
from pbvote.tally import Ballot, Election, Project, run_rule

ELECTION = Election(
    budget=100,
    projects=(Project("a", 60), Project("b", 50), Project("c", 40)),
    ballots=(Ballot(("a",)), Ballot(("a", "c")), Ballot(("b", "c"))),
)


def test_staff_choose_among_exactly_the_rules_the_engine_offers():
    assert set(rules.RULES) == {name for name, rule in tally.RULES.items() if rule.offered}
    # Not offered: greedy-custom, whose reserve outside the budget staff cannot enter in a budget's
    # form; imports use it.  greedy-exclusive is offered: staff set up the groups it honours.
    assert set(tally.RULES) - set(rules.RULES) == {"greedy-custom"}
    assert "greedy-exclusive" in rules.RULES


def test_the_staff_form_offers_the_registrys_rules_with_translated_labels(app):
    from pbvote.cycles.forms import TALLY_RULE_LABELS, BudgetForm

    with app.test_request_context("/"):
        form = BudgetForm(meta={"csrf": False})
        assert [choice.value for choice in form.tally_rule.iter_choices()] == list(rules.RULES)
    assert set(TALLY_RULE_LABELS) == set(rules.RULES)  # every offered rule has a translated label


def test_each_rule_takes_the_parameters_the_engine_declares():
    for name, rule in rules.RULES.items():
        assert rule.params == tuple(choice.name for choice in tally.RULES[name].choices)
        assert rule.label == tally.RULES[name].label


def test_parameter_values_are_the_engines():
    assert set(rules.PARAMS["completion"]) == set(tally.COMPLETIONS)
    assert set(rules.PARAMS["tie_break"]) == set(tally.TIE_BREAKS)
    assert set(rules.PARAMS["utility"]) <= set(tally.UTILITIES)


@pytest.mark.parametrize("rule_name", sorted(rules.RULES))
def test_each_rule_runs_with_its_normalised_default_parameters(rule_name):
    params = rules.normalise_params(rule_name, {})
    if rule_name == "greedy-threshold":
        params["threshold"] = 1
    outcome = run_rule(ELECTION, rule_name, **params)
    assert outcome.total_cost <= 100 and outcome.selected


@pytest.mark.parametrize("rule_name", sorted(rules.RULES))
def test_every_value_staff_can_choose_runs_in_the_engine(rule_name):
    names = rules.RULES[rule_name].params
    for values in itertools.product(*(rules.PARAMS[name] for name in names)):
        params = rules.normalise_params(rule_name, dict(zip(names, values)))
        assert params == dict(zip(names, values))
        outcome = run_rule(ELECTION, rule_name, **params)
        assert outcome.total_cost <= 100
