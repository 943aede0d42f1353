"""Greedy rules: fund the most popular projects first.

All integer arithmetic: scores are whole numbers of votes or points, and
the value-for-money ranking compares ``score_a * cost_b`` with
``score_b * cost_a`` instead of dividing.
"""

from __future__ import annotations

from functools import cmp_to_key

from ..profile import Profile
from .base import DEFAULT_RESERVE, Params, RuleResult


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
            budget_left: int | None = None, exclusive: bool = False,
            stop: list[int] | None = None) -> RuleResult:
    """The greedy family; ``stop`` (a list), if given, receives the project
    where a count without skipping stopped."""
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
        rival = next((x for x in order if x in profile.rivals[c]), None) if exclusive else None
        if rival is not None:
            d["excluded_by"] = profile.ids[rival]
            reasons[c] = (f"Not funded: project {profile.ids[rival]} of the same group of "
                          f"mutually exclusive projects was funded (ranked #{rank} with "
                          f"{scores[c]:,} {unit}).")
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
    if stop is not None and stopped_at is not None:
        stop.append(stopped_at)
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


def greedy_exclusive(profile: Profile, params: Params) -> RuleResult:
    """Greedy with mutually exclusive projects: like greedy, projects are
    funded by votes (or points) while they fit, but some projects cannot both
    be carried out (two plans for the same site); once one project of such a
    group is funded, the others of its group are skipped. An election without
    such groups is counted as plain greedy, and the outcome says so."""
    result = _greedy(profile, params, skip=True, per_cost=False, threshold=None, exclusive=True)
    if not any(profile.rivals):
        result.notes.append("This election has no groups of mutually exclusive projects, "
                            "so greedy-exclusive counted it as plain greedy.")
    return result


def greedy_custom(profile: Profile, params: Params) -> RuleResult:
    """Greedy with a reserve (Poznań's rule): projects are funded by votes
    (or points) until the next one does not fit in the money left; that
    project is funded too, from a reserve outside the budget, if at least 80 %
    of its cost is left (the percentage is the rule's ``reserve``); the count
    stops there."""
    percent = DEFAULT_RESERVE if params.reserve is None else params.reserve
    stop: list[int] = []
    result = _greedy(profile, params, skip=False, per_cost=False, threshold=None, stop=stop)
    result.info["reserve"] = percent
    if not stop:
        return result
    c = stop[0]
    cost = profile.costs[c]
    left = profile.budget - sum(profile.costs[x] for x in result.order)
    d = result.details[c]
    share = _percent(left, cost)
    d["money_left"] = left
    d["share_left"] = share
    if left * 100 >= percent * cost:
        result.order.append(c)
        result.reserve.append(c)
        d["reserve"] = cost - left
        score = _scores(profile, params)[c]
        unit = "points" if params.utility == "points" else "votes"
        result.reasons[c] = (
            f"Funded from the reserve: ranked #{d['rank']} with {score:,} {unit}, it did not "
            f"fit, but {profile.money(left)} of its {profile.money(cost)} cost was left "
            f"({share} %, at least {percent} %), so the reserve pays the other "
            f"{profile.money(cost - left)}.")
        for x, reason in result.reasons.items():
            if x != c and reason.startswith("Not funded: ranked #") and "the count stops" in reason:
                result.reasons[x] = reason.replace(
                    "which did not fit; the count stops there.",
                    "the last one funded (from the reserve); the count stops there.")
    else:
        result.reasons[c] += (f" Only {share} % of its cost was left, less than the "
                              f"{percent} % the reserve needs.")
    return result


def _percent(part: int, whole: int) -> str:
    """``part / whole`` as a percentage rounded down to one decimal (exact)."""
    if not whole:
        return "100"
    tenths = part * 1000 // whole
    return f"{tenths // 10}.{tenths % 10}" if tenths % 10 else str(tenths // 10)


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
