"""Approval ballots: tick the projects you support (at most ``max_choices`` of them, when set:
k-approval)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from pbvote.ballots.kinds.base import TickKind
from pbvote.cycles.models import BallotType


class Approval(TickKind):
    type = BallotType.APPROVAL
    label = _l("Approval: tick the projects you support")
    vote_type = "approval"
    input_type = "checkbox"
    paper_syntax = _l("The numbers of the ticked projects, e.g. “3 7 12”.")

    def own_rules(self, budget, count):
        from flask_babel import gettext as _

        rules = [_("Tick the projects you support.")]
        if budget.max_choices:
            rules.append(ngettext("You can tick up to %(num)d project.", "You can tick up to %(num)d projects.",
                                  budget.max_choices))
        return rules
