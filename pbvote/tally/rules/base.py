"""What every rule receives and returns, and what the registry knows of it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from ..model import FrozenMap
from ..profile import TIE_BREAKS, UTILITIES


class TallyError(ValueError):
    """A rule or parameter the engine does not know (or cannot run here)."""


@dataclass(frozen=True)
class Params:
    """Rule parameters, validated by :func:`pbvote.tally.run_rule`."""

    utility: str = "cost"
    completion: str = "none"
    tie_break: str = "lexico"
    threshold: int | None = None
    engine: str = "auto"
    reserve: int | None = None


@dataclass
class RuleResult:
    """Projects (indices) in selection order, plus per-project explanation.

    ``details[c]`` is structured data, ``reasons[c]`` one plain sentence;
    a rule fills both for every project. ``reserve``: the projects of
    ``order`` funded outside the budget, from a reserve; ``notes``: sentences
    about the count as a whole.
    """

    order: list[int]
    details: dict[int, dict] = field(default_factory=dict)
    reasons: dict[int, str] = field(default_factory=dict)
    info: dict = field(default_factory=dict)
    reserve: list[int] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Choice:
    """A parameter a rule takes that changes its outcome: its ``values`` and
    ``default`` (``None``: it depends on the election, see :attr:`Rule.choices`)."""

    name: str
    values: tuple[str, ...]
    default: str | None


def utility(default: str | None = "cost") -> Choice:
    """``utility``: what a voter gets from a funded project she voted for."""
    return Choice("utility", UTILITIES, default)


TIE_BREAK = Choice("tie_break", TIE_BREAKS, "lexico")

DEFAULT_RESERVE = 80
"""``greedy-custom``'s default: at least 80 % of the next project's cost must be
left for the reserve to fund the rest (Poznań's rule)."""


@dataclass(frozen=True, eq=False)
class Rule:
    """One entry of the registry (:data:`pbvote.tally.RULES`).

    ``run(profile, params) -> RuleResult`` computes it; its docstring is the
    rule in plain language (also this object's ``__doc__``). ``choices``: the
    parameters staff choose and the outcome reports (``utility`` with default
    ``None`` means points on point ballots - cumulative, scoring, ordinal -
    and cost otherwise). ``pabulib``: META ``rule`` names of pabulib files
    that mean this rule, with the options they imply. ``engines``: ways of
    computing it that :func:`~pbvote.tally.run_rule` may be asked for
    (``engine=``; the outcome never depends on it). ``money_info``: the
    figures it reports (``Outcome.parameters``) that are amounts of money.
    ``threshold``: it takes ``threshold`` (else META
    ``min_project_score_threshold``). ``reserve``: it takes ``reserve``, the
    share of a project's cost (a whole percentage) that must be left for a
    reserve to fund the rest (``greedy-custom``; :data:`DEFAULT_RESERVE`).
    ``groups``: it honours groups of mutually exclusive projects
    (:attr:`pbvote.tally.Election.exclusive_groups`); a rule without it
    refuses an election that has them. ``offered``: staff may choose it for
    a budget in the web app.
    """

    name: str
    label: str
    run: Callable
    choices: tuple[Choice, ...]
    pabulib: Mapping[str, Mapping[str, str]] = field(default_factory=FrozenMap)
    engines: tuple[str, ...] = ()
    money_info: frozenset[str] = frozenset()
    threshold: bool = False
    reserve: bool = False
    groups: bool = False
    offered: bool = True

    def __post_init__(self):
        object.__setattr__(self, "pabulib",
                           FrozenMap((k, FrozenMap(v)) for k, v in dict(self.pabulib).items()))
        object.__setattr__(self, "__doc__", self.run.__doc__)

    def __call__(self, profile, params: Params) -> RuleResult:
        return self.run(profile, params)

    def __repr__(self) -> str:
        return f"Rule({self.name!r})"

    def choice(self, name: str) -> Choice | None:
        """The rule's parameter ``name``, or ``None`` if it does not take it."""
        for c in self.choices:
            if c.name == name:
                return c
        return None


def plain_number(x):
    """Numbers for explanations: ints stay ints, exact rationals become floats."""
    if x is None:
        return None
    if isinstance(x, float):
        return round(x, 4)
    if getattr(x, "denominator", 1) == 1:
        return int(x)
    return round(float(x), 4)
