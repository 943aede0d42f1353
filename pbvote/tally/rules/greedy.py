"""Greedy rules: fund the most popular projects first.

All integer arithmetic: scores are whole numbers of votes or points, and
the value-for-money ranking compares ``score_a * cost_b`` with
``score_b * cost_a`` instead of dividing.
"""

from __future__ import annotations

from functools import cmp_to_key

from ..profile import Profile
from .base import Params, RuleResult


def _scores(profile: Profile, params: Params) -> list[int]:
    """The score that orders projects: votes, or points for ``utility=points``."""
    return profile.points if params.utility == "points" else profile.approvals


def _ranking(profile: Profile, params: Params, per_cost: bool) -> list[int]:
    scores = _scores(profile, params)
    tie = profile.tie_rank(params.tie_break)
    costs = profile.costs
    if not per_cost:
        return sorted(range(profile.m), key=lambda c: (-scores[c], tie[c]))

    def compare(a: int, b: int) -> int:
        # score_a / cost_a  vs  score_b / cost_b, with free projects first
        ka, kb = costs[a] == 0, costs[b] == 0
        if ka != kb:
            return -1 if ka else 1
        if not ka:
            lhs, rhs = scores[a] * costs[b], scores[b] * costs[a]
            if lhs != rhs:
                return -1 if lhs > rhs else 1
        elif scores[a] != scores[b]:
            return -1 if scores[a] > scores[b] else 1
        return tie[a] - tie[b]

    return sorted(range(profile.m), key=cmp_to_key(compare))


def _greedy(profile: Profile, params: Params, *, skip: bool, per_cost: bool,
            threshold: int | None, start: list[int] | None = None,
            budget_left: int | None = None) -> RuleResult:
    ranking = _ranking(profile, params, per_cost)
    scores = _scores(profile, params)
    left = profile.budget if budget_left is None else budget_left
    order: list[int] = list(start or [])
    already = set(order)
    details: dict[int, dict] = {}
    reasons: dict[int, str] = {}
    stopped_at = None
    unit = "points" if params.utility == "points" else "votes"
    for rank, c in enumerate(ranking, start=1):
        if c in already:
            continue
        cost = profile.costs[c]
        d = {"rank": rank, "money_left": left, "funded_ahead": [profile.ids[x] for x in order]}
        details[c] = d
        if threshold is not None and scores[c] < threshold:
            d["below_threshold"] = threshold
            reasons[c] = (f"Not funded: {scores[c]:,} {unit} is below the threshold "
                          f"of {threshold:,} {unit}.")
            continue
        if stopped_at is not None:
            reasons[c] = (f"Not funded: ranked #{rank}, after project {profile.ids[stopped_at]}, "
                          "which did not fit; the count stops there.")
            continue
        if cost <= left:
            order.append(c)
            already.add(c)
            reasons[c] = (f"Funded: ranked #{rank} with {scores[c]:,} {unit}; "
                          f"{profile.money(left)} was left, it costs {profile.money(cost)}.")
            left -= cost
        else:
            reasons[c] = (f"Not funded: ranked #{rank} with {scores[c]:,} {unit}, but only "
                          f"{profile.money(left)} was left and it costs {profile.money(cost)}.")
            if not skip:
                stopped_at = c
    return RuleResult(order, details, reasons)


def greedy(profile: Profile, params: Params) -> RuleResult:
    """Greedy: projects are ranked by votes (or points); going down the list,
    every project that still fits in the remaining money is funded, and
    projects that do not fit are skipped."""
    return _greedy(profile, params, skip=True, per_cost=False, threshold=None)


def greedy_no_skip(profile: Profile, params: Params) -> RuleResult:
    """Greedy without skipping: projects are ranked by votes (or points) and
    funded in that order until the first one that does not fit; the count
    stops there, even if cheaper projects further down would still fit."""
    return _greedy(profile, params, skip=False, per_cost=False, threshold=None)


def greedy_threshold(profile: Profile, params: Params) -> RuleResult:
    """Greedy with a threshold: like greedy, but a project needs at least the
    minimum number of votes (or points) the election set
    (``min_project_score_threshold``) to be funded at all."""
    threshold = params.threshold if params.threshold is not None else profile.threshold
    return _greedy(profile, params, skip=True, per_cost=False, threshold=threshold or 0)


def greedy_per_cost(profile: Profile, params: Params) -> RuleResult:
    """Value for money: projects are ranked by votes (or points) per unit of
    cost, so a cheap project with fewer votes can come before an expensive one;
    every project that still fits is funded, the others are skipped."""
    return _greedy(profile, params, skip=True, per_cost=True, threshold=None)


def utilitarian_completion(profile: Profile, params: Params, start: list[int]) -> RuleResult:
    """Fill the money a rule left over, greedily by total utility per cost.

    With cost utilities this is by votes; with approval utilities by votes per
    cost; with points by points per cost (pabutools' utilitarian greedy).
    """
    left = profile.budget - sum(profile.costs[c] for c in start)
    per_cost = params.utility != "cost"
    return _greedy(profile, params, skip=True, per_cost=per_cost, threshold=None,
                   start=start, budget_left=left)
