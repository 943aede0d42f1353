"""Knapsack ballots (the Stanford PB platform's): tick projects whose costs add up to no more than
the budget, and, when the budget says so, to at least a share of it."""
from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from pbvote.ballots.choices import Choice, spent_amount
from pbvote.ballots.kinds.base import TickKind
from pbvote.cycles.models import BallotType
from pbvote.errors import InvalidBallot, InvalidInput


class Knapsack(TickKind):
    type = BallotType.KNAPSACK
    label = _l("Knapsack: choose projects within the budget")
    vote_type = "approval"
    input_type = "checkbox"
    paper_syntax = _l("The numbers of the ticked projects, e.g. “3 7 12”; their costs must fit the budget.")

    def min_spend_setting(self, percent):
        if not 0 <= percent <= 100:
            raise InvalidInput(_("The minimum spend is a percentage between 0 and 100."), field="min_spend_percent")
        return percent

    def check_content(self, budget, proposals, choices):
        spent = spent_amount(proposals, choices)
        if spent > budget.total_amount:
            raise InvalidBallot(_("Your choices cost more than the budget. Remove a project."), field="projects",
                                reason="over_budget")
        if spent * 100 < budget.total_amount * budget.min_spend_percent:
            raise InvalidBallot(
                _("Choose projects worth at least %(p)d%% of the budget.", p=budget.min_spend_percent), field="projects"
            )

    def own_rules(self, budget, count):
        rules = [_("Tick the projects you want. Their costs must add up to no more than the budget.")]
        if budget.min_spend_percent:
            rules.append(_("Use at least %(p)d%% of the budget.", p=budget.min_spend_percent))
        if budget.max_choices:
            rules.append(ngettext("You can tick up to %(num)d project.", "You can tick up to %(num)d projects.",
                                  budget.max_choices))
        return rules

    def sample(self, rng, budget, proposals, weight=None):
        if not proposals:
            return []
        spent, picked = 0, []
        limit = budget.max_choices or len(proposals)
        for p in self._by_appeal(rng, proposals, weight):
            if len(picked) < limit and spent + p.ballot_amount <= budget.total_amount and rng.random() < 0.7:
                picked.append(Choice(p.id))
                spent += p.ballot_amount
        need = -(-budget.total_amount * budget.min_spend_percent // 100)  # the minimum spend, rounded up
        if spent < need:  # top up with what still fits, most appealing first
            chosen = {c.proposal_id for c in picked}
            for p in sorted(proposals, key=lambda p: -p.ballot_amount):
                if spent >= need or len(picked) >= limit:
                    break
                if p.id not in chosen and spent + p.ballot_amount <= budget.total_amount:
                    picked.append(Choice(p.id))
                    spent += p.ballot_amount
        return picked or [Choice(min(proposals, key=lambda p: p.ballot_amount).id)]
