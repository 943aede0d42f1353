"""The rule registry: what each rule declares is what run_rule accepts, reports and reads
from pabulib files; the MES engine is a parameter that never changes the outcome."""

import pytest

from pbvote.tally import (
    COMPLETIONS,
    FILE_RULES,
    MONEY_PARAMETERS,
    RULES,
    TIE_BREAKS,
    UTILITIES,
    Ballot,
    Election,
    Project,
    TallyError,
    run_rule,
)
from pbvote.tally.mes import ENGINES

SMALL = Election(budget=100, projects=[Project("a", 60), Project("b", 50), Project("c", 40)],
                 ballots=[Ballot(("a",), None, 3), Ballot(("a", "c"), None, 2), Ballot(("b", "c"), None, 4)])


def test_every_rule_declares_valid_choices_and_a_label():
    known = {"utility": UTILITIES, "completion": COMPLETIONS, "tie_break": TIE_BREAKS}
    for name, rule in RULES.items():
        assert rule.name == name and rule.label
        for choice in rule.choices:
            assert set(choice.values) <= set(known[choice.name]), (name, choice)
            assert choice.default is None or choice.default in choice.values
            for value in choice.values:  # every declared value runs
                run_rule(SMALL, name, **{choice.name: value}, threshold=1)


def test_outcome_reports_the_rules_choices():
    for name, rule in RULES.items():
        outcome = run_rule(SMALL, name, threshold=1)
        assert {c.name for c in rule.choices} | {"utility", "tie_break"} <= set(outcome.parameters)


def test_file_rules_and_money_parameters_come_from_the_registry():
    assert FILE_RULES == {meta: (rule.name, dict(options))
                          for rule in RULES.values() for meta, options in rule.pabulib.items()}
    assert MONEY_PARAMETERS == RULES["mes"].money_info


@pytest.mark.parametrize("bad", [{"rule": "greedy", "engine": "exact"}, {"rule": "mes", "engine": "warp"}])
def test_engine_is_checked(bad):
    with pytest.raises(TallyError):
        run_rule(SMALL, **bad)


@pytest.mark.parametrize("completion", COMPLETIONS)
def test_mes_engines_give_the_same_outcome(shared, completion):
    _, election = shared("Netherlands_Assen_2024.pb")
    engines = [e for e in ENGINES if e != "kernel"]
    try:
        run_rule(SMALL, "mes", engine="kernel")
        engines.append("kernel")
    except TallyError:
        pass  # not built here (test_tally_mes_kernel fails on that where it is required)
    outcomes = [run_rule(election, "mes", completion=completion, engine=e) for e in engines]
    drop = {"mes_runs", "mes_kernel_runs"}
    for o in outcomes[1:]:
        assert (o.selected, o.projects, o.satisfaction) == (outcomes[0].selected, outcomes[0].projects,
                                                           outcomes[0].satisfaction)
        assert ({k: v for k, v in o.parameters.items() if k not in drop}
                == {k: v for k, v in outcomes[0].parameters.items() if k not in drop})
