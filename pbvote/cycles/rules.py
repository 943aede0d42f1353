"""The tally rules and parameters the tally engine offers, as staff choose them per budget.

Names here are keys of the engine's registry (``pbvote.tally.RULES``) and the parameters are those
its ``run_rule`` accepts; ``tests/cycles/test_rules_match_engine.py`` keeps the two in step.  Kept free
of Flask and SQLAlchemy.
"""
from __future__ import annotations

from dataclasses import dataclass

#: Parameter name -> allowed values; the first value is the default.
PARAMS: dict[str, tuple[str, ...]] = {
    "utility": ("approvals", "cost", "points"),
    "completion": ("none", "greedy", "add1", "add1+greedy"),
    "tie_break": ("lexico", "equalshares"),
}


@dataclass(frozen=True)
class TallyRule:
    name: str
    params: tuple[str, ...]  # the parameters this rule takes (keys of PARAMS)


RULES: dict[str, TallyRule] = {
    rule.name: rule
    for rule in (
        TallyRule("greedy", ("utility", "tie_break")),
        TallyRule("greedy-no-skip", ("utility", "tie_break")),
        TallyRule("greedy-threshold", ("utility", "tie_break")),
        TallyRule("greedy-per-cost", ("utility", "tie_break")),  # value for money: score per cost
        TallyRule("knapsack", ("utility", "tie_break")),
        TallyRule("mes", ("utility", "completion", "tie_break")),  # completion is MES only
        TallyRule("phragmen", ("tie_break",)),
    )
}


def normalise_params(rule_name: str, params: dict[str, str | None]) -> dict[str, str]:
    """The parameters of ``rule_name`` with defaults filled in and others dropped.

    Raises ``KeyError`` for an unknown rule and ``ValueError`` (naming the parameter) for a value
    the rule does not accept.
    """
    rule = RULES[rule_name]
    out: dict[str, str] = {}
    for name in rule.params:
        value = params.get(name) or PARAMS[name][0]
        if value not in PARAMS[name]:
            raise ValueError(name)
        out[name] = value
    return out
