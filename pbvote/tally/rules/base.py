"""What every rule receives and returns (internal)."""

from __future__ import annotations

from dataclasses import dataclass, field

COMPLETIONS = ("none", "greedy", "add1", "add1+greedy")


@dataclass(frozen=True)
class Params:
    """Rule parameters, validated by :func:`pbvote.tally.run_rule`."""

    utility: str = "cost"
    completion: str = "none"
    tie_break: str = "lexico"
    threshold: int | None = None


@dataclass
class RuleResult:
    """Projects (indices) in selection order, plus per-project explanation.

    ``details[c]`` is structured data, ``reasons[c]`` one plain sentence;
    a rule fills both for every project.
    """

    order: list[int]
    details: dict[int, dict] = field(default_factory=dict)
    reasons: dict[int, str] = field(default_factory=dict)
    info: dict = field(default_factory=dict)


def plain_number(x):
    """Numbers for explanations: ints stay ints, exact rationals become floats."""
    if x is None:
        return None
    if getattr(x, "denominator", 1) == 1:
        return int(x)
    return round(float(x), 4)
