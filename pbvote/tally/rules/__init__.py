"""The rule registry: adding a rule is one module and one line here.

Each entry is a :class:`~.base.Rule`: its name, a human label, the function
that computes it (whose docstring explains it in plain language), the
parameters it takes with their values and defaults, and the pabulib names
that mean it. :func:`pbvote.tally.run_rule`, the CLI, the staff forms
(``pbvote.cycles.rules``) and the open-data export all read it from here.
"""

from __future__ import annotations

from ..mes import COMPLETIONS as _MES_COMPLETIONS
from ..mes import ENGINES, run_mes
from .base import TIE_BREAK, Choice, Rule, utility
from .greedy import (
    greedy,
    greedy_custom,
    greedy_exclusive,
    greedy_no_skip,
    greedy_per_cost,
    greedy_threshold,
)
from .knapsack import knapsack
from .phragmen import phragmen

COMPLETION = Choice("completion", tuple(_MES_COMPLETIONS), "none")

RULES: dict[str, Rule] = {rule.name: rule for rule in (
    Rule("greedy", "Greedy: most votes first, skipping what no longer fits", greedy,
         (utility(None), TIE_BREAK), pabulib={"greedy": {}}),
    Rule("greedy-no-skip", "Greedy, stopping at the first project that does not fit", greedy_no_skip,
         (utility(None), TIE_BREAK), pabulib={"greedy-no-skip": {}}),
    Rule("greedy-threshold", "Greedy among projects above a vote threshold", greedy_threshold,
         (utility(None), TIE_BREAK), pabulib={"greedy-threshold": {}}, threshold=True),
    Rule("greedy-exclusive", "Greedy, skipping projects that cannot be built together with one already funded",
         greedy_exclusive, (utility(None), TIE_BREAK), pabulib={"greedy-exclusive": {}}, groups=True),
    Rule("greedy-custom", "Greedy with a reserve for the next project (Poznań)", greedy_custom,
         (utility(None), TIE_BREAK), pabulib={"greedy-custom": {}}, reserve=True, offered=False),
    Rule("greedy-per-cost", "Value for money: votes per cost", greedy_per_cost,
         (utility(None), TIE_BREAK)),
    Rule("knapsack", "Knapsack: the set with the most total votes", knapsack,
         (utility(), TIE_BREAK)),
    Rule("mes", "Method of Equal Shares", run_mes, (utility(), COMPLETION, TIE_BREAK),
         pabulib={"equalshares": {"utility": "cost", "completion": "none"},
                  "equalshares/add1": {"utility": "cost", "completion": "add1"}},
         engines=ENGINES, money_info=frozenset({"per_voter_share", "final_per_voter_share"})),
    Rule("phragmen", "Phragmén's sequential rule", phragmen, (TIE_BREAK,)),
)}
