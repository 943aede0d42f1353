"""A published result in a pabulib file: the rule that gave it, and its ``selected`` column.

**The rule.** pabulib's META ``rule`` names a rule where the format has a
name for it (``greedy``, ``greedy-no-skip``, ``greedy-threshold``,
``greedy-exclusive``, ``greedy-custom``, ``equalshares``,
``equalshares/add1``, ...; the registry's ``Rule.pabulib`` maps them). It
says nothing of tie-breaking or utilities, and many of pbvote's rules have
no pabulib name, so pbvote adds two META keys of its own (other readers
ignore them):

* ``pbvote_rule``: the registry name of the rule (``mes``, ``knapsack``, ...);
* ``pbvote_parameters``: the parameters that define its outcome, as
  ``name=value`` pairs separated by ``;`` (``,`` is read too), e.g.
  ``completion=add1;tie_break=equalshares;utility=cost``; ``threshold`` and
  ``reserve`` for the rules that take them.

:func:`file_meta` writes them (with ``rule`` set to pabulib's name, or
``unknown``); :func:`rule_from_meta` reads them back, preferring pbvote's
keys to ``rule`` (``--rule from-file``), so an exported file always recounts
to the published outcome.

**The selected column.** 1: funded by the file's rule; 0: not funded; 2 or 3:
funded outside the rule - a reserve (Poznań), an award (Gdynia), extra funds
(the file's ``comment`` says which). :func:`check_selected` compares a rule's
outcome with the 1s, and lists the others apart.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from .model import Outcome
from .rules import RULES
from .rules.base import TallyError

RULE_KEY = "pbvote_rule"
PARAMETERS_KEY = "pbvote_parameters"
NUMBER_PARAMETERS = ("threshold", "reserve")

# pabulib META ``rule`` values -> (rule, options), from the registry
FILE_RULES = {meta: (rule.name, dict(options))
              for rule in RULES.values() for meta, options in rule.pabulib.items()}


def rule_parameters(rule: str, parameters: Mapping) -> dict:
    """The parameters of ``rule`` that define its outcome, taken from an
    outcome's ``parameters`` (``Outcome.parameters`` also reports figures such
    as MES's shares, which are left out)."""
    spec = RULES[rule]
    names = [c.name for c in spec.choices]
    if spec.threshold:
        names.append("threshold")
    if spec.reserve:
        names.append("reserve")
    return {name: parameters[name] for name in names if parameters.get(name) is not None}


def pabulib_name(rule: str, parameters: Mapping) -> str | None:
    """pabulib's META ``rule`` for ``rule`` with these parameters, if it has one."""
    for name, options in RULES[rule].pabulib.items():
        if all(parameters.get(k) == v for k, v in options.items()):
            return name
    return None


def parameters_text(parameters: Mapping) -> str:
    return ";".join(f"{k}={v}" for k, v in sorted(parameters.items()))


def file_meta(outcome: Outcome) -> dict[str, str]:
    """The META entries that record how ``outcome`` was computed: ``rule``,
    ``pbvote_rule``, ``pbvote_parameters``."""
    params = rule_parameters(outcome.rule, outcome.parameters)
    return {
        "rule": pabulib_name(outcome.rule, params) or "unknown",
        RULE_KEY: outcome.rule,
        PARAMETERS_KEY: parameters_text(params),
    }


def rule_for_file(meta_rule: str) -> tuple[str, dict]:
    """Map a pabulib META ``rule`` to ``(rule name, options)``."""
    try:
        return FILE_RULES[meta_rule.strip()]
    except KeyError:
        raise TallyError(f"the file's rule {meta_rule!r} is not implemented "
                         f"(known: {', '.join(FILE_RULES)})") from None


def rule_from_meta(meta: Mapping[str, str]) -> tuple[str, dict]:
    """The rule and options a file's META names: ``pbvote_rule`` with
    ``pbvote_parameters`` when present, else pabulib's ``rule``. Raises
    :class:`TallyError` for a rule or parameter the engine does not know."""
    name = meta.get(RULE_KEY, "").strip()
    if not name:
        return rule_for_file(meta.get("rule", ""))
    if name not in RULES:
        raise TallyError(f"the file's {RULE_KEY} {name!r} is not a rule pbvote knows "
                         f"(known: {', '.join(RULES)})")
    spec = RULES[name]
    allowed = {c.name: c.values for c in spec.choices}
    if spec.threshold:
        allowed["threshold"] = None
    if spec.reserve:
        allowed["reserve"] = None
    options: dict = {}
    text = meta.get(PARAMETERS_KEY, "").strip()
    for part in text.replace(",", ";").split(";") if text else ():
        key, sep, value = (s.strip() for s in part.partition("="))
        if not part.strip():
            continue
        if not sep or key not in allowed:
            raise TallyError(f"the file's {PARAMETERS_KEY} has {part.strip()!r}, which is not "
                             f"a parameter of {name} (known: {', '.join(allowed) or 'none'})")
        if key in NUMBER_PARAMETERS:
            if not (value.isdigit() and value.isascii() and len(value) <= 24):
                raise TallyError(f"the file's {PARAMETERS_KEY}: {key} must be a whole number, "
                                 f"not {value!r}")
            options[key] = int(value)
        elif value not in allowed[key]:
            raise TallyError(f"the file's {PARAMETERS_KEY}: unknown {key} {value!r} "
                             f"(known: {', '.join(allowed[key])})")
        else:
            options[key] = value
    return name, options


@dataclass(frozen=True)
class SelectedCheck:
    """A rule's outcome against a file's ``selected`` column.

    ``missing``: 1s the rule did not fund; ``extra``: funded by the rule
    within its budget but not a 1; ``outside``: the projects funded outside
    the rule (``(id, value)``, values 2 and 3), reported apart and not
    compared; ``reserve``: the rule's own reserve-funded projects
    (``greedy-custom``), which the file must mark 2 or 3 (``reserve_unmarked``
    lists those it does not). ``matches`` when nothing is missing, extra or
    unmarked.
    """

    missing: tuple[str, ...]
    extra: tuple[str, ...]
    outside: tuple[tuple[str, int], ...]
    reserve: tuple[str, ...]
    reserve_unmarked: tuple[str, ...]

    @property
    def matches(self) -> bool:
        return not (self.missing or self.extra or self.reserve_unmarked)

    def describe(self) -> list[str]:
        """Plain sentences for people (the CLI prints them)."""
        lines = []
        if self.matches:
            lines.append("selected: the rule funds exactly the projects the file marks 1")
        else:
            lines.append(f"MISMATCH with the file's selected column: not funded here but "
                         f"published {list(self.missing)}, funded here but not published "
                         f"{list(self.extra)}"
                         + (f", funded from the reserve here but not marked 2 or 3 "
                            f"{list(self.reserve_unmarked)}" if self.reserve_unmarked else ""))
        if self.outside:
            shown = ", ".join(
                f"{pid} ({value}{'; the rule funds it from its reserve' if pid in self.reserve else ''})"
                for pid, value in self.outside)
            lines.append(f"funded outside the rule (selected 2 or 3, not compared): {shown}")
        return lines


def check_selected(outcome: Outcome, values: Mapping[str, int]) -> SelectedCheck:
    """Compare ``outcome`` with a file's ``selected`` values (project id -> 0/1/2/3)."""
    ones = {pid for pid, v in values.items() if v == 1}
    outside = {pid: v for pid, v in values.items() if v >= 2}
    reserve = set(outcome.reserve)
    funded = set(outcome.selected) - reserve
    return SelectedCheck(
        missing=tuple(sorted(ones - funded)),
        extra=tuple(sorted(funded - ones)),
        outside=tuple(sorted(outside.items())),
        reserve=tuple(outcome.reserve),
        reserve_unmarked=tuple(sorted(reserve - outside.keys())),
    )
