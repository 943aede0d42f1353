"""What the proposals domain does when a domain below it says something happens (blinker signals,
connected once, when this module is first imported: :func:`pbvote.proposals.setup.init_app` imports it,
and ``create_app`` calls that for every app).

* :data:`pbvote.cycles.signals.budget_removing` — staff are removing a budget: refused while
  proposals ask for it (:func:`pbvote.proposals.services.drafting.check_budget_removable`).
"""
from __future__ import annotations

from pbvote.cycles.models import Budget
from pbvote.cycles.signals import budget_removing
from pbvote.proposals.services.drafting import check_budget_removable


@budget_removing.connect
def keep_budgets_with_proposals(budget: Budget, **_extra) -> None:
    check_budget_removable(budget)
