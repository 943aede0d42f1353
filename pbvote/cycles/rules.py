"""The tally rules and parameters staff can choose per budget, read from the tally engine's registry.

Every rule of ``pbvote.tally.RULES`` that the engine marks ``offered`` is a choice here, with the
parameters it takes (``Rule.choices``: utility, completion, tie-break) and the values the engine
accepts for them; adding a rule to the engine's registry offers it here.  The one decision made here
is the default a staff form starts from for ``utility`` (the number of votes: the simplest to
explain), where the engine's own default (cost, or points for greedy rules on point ballots) would
otherwise apply.  Kept free of Flask and SQLAlchemy.
"""
from __future__ import annotations

from dataclasses import dataclass

from pbvote.tally import RULES as ENGINE_RULES

#: Parameter -> the value a staff form starts from, where it differs from the engine's default.
STAFF_DEFAULTS: dict[str, str] = {"utility": "approvals"}


@dataclass(frozen=True)
class TallyRule:
    name: str
    params: tuple[str, ...]  # the parameters this rule takes (keys of PARAMS)
    label: str  # the engine's label (English; forms translate their own)


RULES: dict[str, TallyRule] = {
    rule.name: TallyRule(rule.name, tuple(choice.name for choice in rule.choices), rule.label)
    for rule in ENGINE_RULES.values()
    if rule.offered
}


def _params() -> dict[str, tuple[str, ...]]:
    """Parameter name -> allowed values, the default first (then the engine's order)."""
    out: dict[str, tuple[str, ...]] = {}
    for rule in ENGINE_RULES.values():
        if not rule.offered:
            continue
        for choice in rule.choices:
            default = STAFF_DEFAULTS.get(choice.name, choice.default) or choice.values[0]
            values = (default, *(v for v in choice.values if v != default))
            if out.setdefault(choice.name, values) != values:  # pragma: no cover
                raise ValueError(f"the engine's rules disagree on {choice.name}: set STAFF_DEFAULTS")
    return out


#: Parameter name -> allowed values; the first value is the default.
PARAMS: dict[str, tuple[str, ...]] = _params()


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
