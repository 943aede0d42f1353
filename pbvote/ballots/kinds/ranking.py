"""Ranking ballots: rank up to ``max_choices`` projects, 1 for the favourite (pabulib's ``ordinal``)."""
from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from pbvote import tally
from pbvote.ballots.choices import Choice
from pbvote.ballots.kinds.base import ValuePerProjectKind
from pbvote.ballots.kinds.fields import rank_field, rank_options
from pbvote.cycles.models import BallotType
from pbvote.errors import InvalidBallot, InvalidInput


class Ranking(ValuePerProjectKind):
    type = BallotType.RANKING
    label = _l("Ranking: put projects in order of preference")
    vote_type = "ordinal"
    widget = "ballots/kinds/rank.html"
    paper_mark = "paper/marks/rank.html"
    value = "rank"
    ordered = True
    paper_syntax = _l("The projects' numbers in the order of the ranks, favourite first, e.g. “7 3 12”.")

    def choice_limits(self, min_choices, max_choices):
        if not max_choices or max_choices < 1:
            raise InvalidInput(_("Say how many projects voters may rank (at least 1)."), field="max_choices")
        return min_choices, max_choices

    def form_fields(self, budget, proposals):
        ranks = rank_options(budget.max_choices or len(proposals))
        return {self._field_name(p.id): rank_field(p, ranks) for p in proposals}

    def normalise(self, budget, proposals, choices):
        choices = [c for c in choices if c.rank is not None]
        ranks = sorted(c.rank for c in choices)
        limit = budget.max_choices or len(proposals)
        if any(rank < 1 for rank in ranks):
            raise InvalidBallot(_("Ranks start at 1."), field="projects")
        if len(set(ranks)) != len(ranks):
            raise InvalidBallot(_("Give each rank to one project only."), field="projects")
        if ranks != list(range(1, len(ranks) + 1)):
            raise InvalidBallot(_("Use the ranks 1, 2, 3 … without gaps."), field="projects")
        if len(ranks) > limit:
            raise InvalidBallot(_("You can rank at most %(n)d projects.", n=limit), field="projects", reason="too_many")
        return [Choice(c.proposal_id, rank=c.rank) for c in choices]

    def own_rules(self, budget, count):
        return [_("Rank up to %(n)d projects: 1 is your favourite, then 2, 3 … without gaps.",
                  n=budget.max_choices or count)]

    def receipt_order(self, choices):
        return sorted(choices, key=lambda c: c.rank or 0)

    def engine_ballot_of(self, ids, values, weight=1):
        # by rank as on the receipt (a ballot's ranks are unique: a constraint); the id settles
        # what no rank orders, so that the order the rows came in never matters
        ordered = sorted(zip(ids, values), key=lambda pair: (pair[1] or 0, pair[0]))
        return tally.Ballot(tuple(str(pid) for pid, _ in ordered), None, weight)

    def sample(self, rng, budget, proposals, weight=None):
        if not proposals:
            return []
        limit = min(budget.max_choices or len(proposals), len(proposals))
        low = min(max(budget.min_choices or 0, 1), limit)
        ordered = self._by_appeal(rng, proposals, weight)[: rng.randint(low, limit)]
        return [Choice(p.id, rank=rank) for rank, p in enumerate(ordered, start=1)]

    def parse_paper(self, text, numbers):
        return [Choice(self._paper_project(token, numbers), rank=rank)
                for rank, token in enumerate(self._paper_tokens(text), start=1)]
