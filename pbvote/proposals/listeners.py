"""What the proposals domain does when a domain below it says something happens (blinker signals,
connected once, when this module is first imported: :func:`pbvote.proposals.setup.init_app` imports it,
and ``create_app`` calls that for every app).

* :data:`pbvote.cycles.signals.budget_removing` — staff are removing a budget: refused while
  proposals ask for it (:func:`pbvote.proposals.services.drafting.check_budget_removable`).
* :data:`pbvote.cycles.signals.budget_rule_changing` — staff are changing a budget's tally rule:
  refused when the budget has groups of mutually exclusive projects and the new rule does not count
  them (:func:`pbvote.proposals.services.groups.check_rule_keeps_groups`).
"""
from __future__ import annotations

from pbvote.cycles.models import Budget
from pbvote.cycles.signals import budget_removing, budget_rule_changing
from pbvote.proposals.services.drafting import check_budget_removable
from pbvote.proposals.services.groups import check_rule_keeps_groups


@budget_removing.connect
def keep_budgets_with_proposals(budget: Budget, **_extra) -> None:
    check_budget_removable(budget)


@budget_rule_changing.connect
def keep_rules_that_count_groups(budget: Budget, rule: str, **_extra) -> None:
    check_rule_keeps_groups(budget, rule)
