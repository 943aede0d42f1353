"""Choose-one ballots: the one project a voter wants most (pabulib's ``choose-1``)."""
from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from pbvote.ballots.kinds.base import TickKind
from pbvote.cycles.models import BallotType
from pbvote.errors import InvalidBallot


class ChooseOne(TickKind):
    type = BallotType.CHOOSE_ONE
    label = _l("Choose one project")
    vote_type = "choose-1"
    input_type = "radio"
    paper_syntax = _l("The number of the one project chosen, e.g. “7”.")

    def choice_limits(self, min_choices, max_choices):
        return 1, 1

    def check_count(self, budget, count):
        if count != 1:
            raise InvalidBallot(_("Choose exactly one project."), field="projects",
                                reason="too_many" if count > 1 else "too_few")
        super().check_count(budget, count)

    def own_rules(self, budget, count):
        return [_("Choose the one project you want most.")]

    def minimum_rule(self, budget):
        return []  # "exactly one" says it
