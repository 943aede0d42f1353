"""The rule registry: adding a rule is one module and one line here.

Each entry maps a rule name to a function ``(Profile, Params) -> RuleResult``
whose docstring explains the rule in plain language (the CLI shows it).
"""

from __future__ import annotations

from .greedy import greedy, greedy_no_skip, greedy_per_cost, greedy_threshold
from .knapsack import knapsack
from .mes import run_mes
from .phragmen import phragmen

RULES = {
    "greedy": greedy,
    "greedy-no-skip": greedy_no_skip,
    "greedy-threshold": greedy_threshold,
    "greedy-per-cost": greedy_per_cost,
    "knapsack": knapsack,
    "mes": run_mes,
    "phragmen": phragmen,
}
