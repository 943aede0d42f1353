"""Points ballots (cumulative voting): spread up to ``points_total`` points over the projects, at
most ``points_per_project`` on one."""
from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from pbvote import tally
from pbvote.ballots.choices import Choice
from pbvote.ballots.kinds.base import ValuePerProjectKind
from pbvote.ballots.kinds.fields import points_field
from pbvote.cycles.models import BallotType
from pbvote.errors import InvalidBallot, InvalidInput


class Points(ValuePerProjectKind):
    type = BallotType.CUMULATIVE
    label = _l("Points: spread your points over projects")
    vote_type = "cumulative"
    widget = "ballots/kinds/points.html"
    paper_mark = "paper/marks/points.html"
    value = "points"
    empty = (None, 0)
    paper_syntax = _l("Each project's number and its points, e.g. “3=5 7=2 12=3”.")

    def points_settings(self, total, per_project):
        if not total or total < 1:
            raise InvalidInput(_("Give each voter at least 1 point to spread."), field="points_total")
        if not per_project or per_project < 1:
            raise InvalidInput(_("Allow at least 1 point per project."), field="points_per_project")
        if per_project > total:
            raise InvalidInput(
                _("The points per project cannot be more than the points each voter has."), field="points_per_project"
            )
        return {"points_total": total, "points_per_project": per_project}

    def form_fields(self, budget, proposals):
        return {self._field_name(p.id): points_field(p) for p in proposals}

    def normalise(self, budget, proposals, choices):
        if any(c.points is None or c.points < 0 for c in choices):
            raise InvalidBallot(_("Points must be whole numbers of zero or more."), field="projects")
        choices = [c for c in choices if c.points > 0]
        cap = budget.points_per_project
        if cap is not None and any(c.points > cap for c in choices):
            raise InvalidBallot(_("You can give at most %(n)d points to one project.", n=cap), field="projects")
        total = sum(c.points for c in choices)
        if budget.points_total is not None and total > budget.points_total:
            raise InvalidBallot(
                _("You gave %(given)d points but have only %(total)d.", given=total, total=budget.points_total),
                field="projects",
                reason="over_budget",
            )
        return [Choice(c.proposal_id, points=c.points) for c in choices]

    def own_rules(self, budget, count):
        rules = [_("Spread up to %(n)d points over the projects you support; more points mean more support.",
                   n=budget.points_total or 0)]
        if budget.points_per_project:
            rules.append(_("At most %(n)d points for one project.", n=budget.points_per_project))
        return rules

    def engine_ballot_of(self, ids, values, weight=1):
        ordered = sorted(zip(ids, values), key=lambda pair: pair[0])
        return tally.Ballot(tuple(str(pid) for pid, _ in ordered), tuple(points or 0 for _, points in ordered), weight)

    def max_sum_points(self, budget):
        return budget.points_total

    def sample(self, rng, budget, proposals, weight=None):
        total = budget.points_total or 0
        cap = budget.points_per_project or total
        most = min(len(proposals), total)
        if most < 1:
            return []
        chosen = self._by_appeal(rng, proposals, weight)[: rng.randint(min(max(budget.min_choices or 0, 1), most), most)]
        points = {p.id: 1 for p in chosen}  # every chosen project gets a point, then the rest is spread
        for _round in range(rng.randint(0, total - len(chosen))):
            open_ = [pid for pid, given in points.items() if given < cap]
            if not open_:
                break
            points[rng.choice(open_)] += 1
        return [Choice(pid, points=given) for pid, given in points.items()]

    def parse_paper(self, text, numbers):
        choices = []
        for token in self._paper_tokens(text):
            number, sep, points = token.partition("=")
            if not sep or not points.isdigit():
                raise InvalidBallot(
                    _("Write each project as number=points, e.g. 3=5 (“%(token)s” is not).", token=token), field="choices"
                )
            choices.append(Choice(self._paper_project(number, numbers), points=int(points)))
        return choices
