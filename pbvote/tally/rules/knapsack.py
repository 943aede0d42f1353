"""Knapsack: the set of projects with the largest total support that fits.

The value of a project is the total utility its voters get: its number of
votes (``utility=approvals``), votes x cost (``utility=cost``, i.e. money
spent on projects people voted for) or its points (``utility=points``).

**How optimality is guaranteed.** Exact depth-first branch and bound over
the projects sorted by value per cost (best first; ties by the tie-break
order). At every node the bound is the optimum of the *fractional*
relaxation (Dantzig's bound: take the next projects whole while they fit,
then the fitting fraction of the first that does not), computed with
integers and rounded down - a valid bound because every real set has an
integer value. A branch is cut only when this bound cannot beat the best
set found so far, so no set of higher value is ever discarded, and the
search ends only when every branch is explored or cut: the result is a
maximum. All arithmetic is on integers (no floating point).

**Tie rule among optimal sets.** The search tries "fund" before "skip" in
the order above and replaces its incumbent only by a *strictly* better set,
so it returns, among all optimal sets, the one that funds the earliest
projects of that order: compare two optimal sets project by project in the
order (value per cost, then tie-break); the first project where they differ
is funded in the set we return.

Free projects (cost 0) with any support are always funded; projects nobody
supports are never funded (they add nothing).
"""

from __future__ import annotations

import sys
from functools import cmp_to_key

from ..profile import Profile
from .base import Params, RuleResult


def _values(profile: Profile, utility: str) -> list[int]:
    return profile.total_utility(utility)


def solve(costs: list[int], values: list[int], budget: int, tie: list[int]) -> tuple[int, list[int]]:
    """Return ``(best value, chosen indices in search order)``."""
    n = len(costs)

    # free projects with value are always in; worthless projects never help
    free = sorted((i for i in range(n) if costs[i] == 0 and values[i] > 0), key=tie.__getitem__)
    items = [i for i in range(n) if costs[i] > 0 and values[i] > 0 and costs[i] <= budget]

    def compare(a: int, b: int) -> int:
        lhs, rhs = values[a] * costs[b], values[b] * costs[a]
        if lhs != rhs:
            return -1 if lhs > rhs else 1
        return tie[a] - tie[b]

    items.sort(key=cmp_to_key(compare))
    c = [costs[i] for i in items]
    v = [values[i] for i in items]
    k = len(items)
    best_value = -1
    best_take: list[bool] = []
    take = [False] * k

    def bound(i: int, room: int, value: int) -> int:
        while i < k and c[i] <= room:
            room -= c[i]
            value += v[i]
            i += 1
        if i < k and room > 0:
            value += (v[i] * room) // c[i]
        return value

    sys.setrecursionlimit(max(1000, 4 * k + 100))

    def search(i: int, room: int, value: int) -> None:
        nonlocal best_value, best_take
        if i == k:
            if value > best_value:
                best_value, best_take = value, take[:]
            return
        if bound(i, room, value) <= best_value:
            return
        if c[i] <= room:
            take[i] = True
            search(i + 1, room - c[i], value + v[i])
            take[i] = False
        search(i + 1, room, value)

    search(0, budget, 0)
    chosen = [items[j] for j in range(k) if best_take[j]]
    return best_value + sum(values[i] for i in free), free + chosen


def knapsack(profile: Profile, params: Params) -> RuleResult:
    """Knapsack: out of all sets of projects that fit in the budget, fund the
    one that gives voters the most in total (most votes, or most money spent on
    projects people voted for, or most points). Computed exactly, not
    approximated."""
    values = _values(profile, params.utility)
    tie = profile.tie_rank(params.tie_break)
    best, chosen = solve(profile.costs, values, profile.budget, tie)
    chosen_set = set(chosen)
    details, reasons = {}, {}
    spent = sum(profile.costs[c] for c in chosen)
    for c in range(profile.m):
        share = f"{values[c]:,} of the optimal total {best:,}"
        details[c] = {"value": values[c], "optimum": best}
        if c in chosen_set:
            reasons[c] = f"Funded: part of the best set that fits; it adds {share}."
        elif profile.costs[c] > profile.budget:
            reasons[c] = f"Not funded: it costs more than the whole budget ({profile.money(profile.budget)})."
        else:
            reasons[c] = (f"Not funded: the best set that fits in the budget (total {best:,}) "
                          f"does not include it (its own value is {values[c]:,}; "
                          f"{profile.money(profile.budget - spent)} is left unspent).")
    return RuleResult(chosen, details, reasons, {"welfare": best})
