"""Sequential Phragmén, exact.

Every funded project puts a *load* on its supporters: together they carry
its cost, and each supporter's load is the total she carries. Each round the
rule funds the project whose supporters would end up with the smallest
maximal load, ``(their current loads + cost) / number of supporters``; all
its supporters are then levelled to that load. It stops at the first
project that does not fit (as pabutools does: if any of the projects tied
for the smallest load does not fit, it stops).

**Exactness and speed.** Loads are exact rationals. A voter's load is the
load set when the last funded project she supports was funded, so each
ballot group only records that project; a candidate's new load counts its
supporters per recorded project (``Counter``, at C speed) and costs one
multiplication per funded project. Loads only grow, so a candidate's last
value is a lower bound and candidates are re-evaluated lazily.

The race is run on floats first, with a proven error bound: each load is
kept exactly and as its nearest float, and a candidate's new load computed
in floats from ``k`` funded loads is within a relative ``(k + 4) 2**-52`` of
the exact one (a sum of positive terms). Every candidate whose float is
within that margin of the round's best is then computed exactly, and the
winner (and the projects tied with it, for the stop rule) are decided on
the exact values: the outcome is the exact rule's, at the speed of floats.
"""

from __future__ import annotations

from collections import Counter
from operator import itemgetter

from ..profile import Profile, Q
from .base import Params, RuleResult
from .base import plain_number as _num


def phragmen(profile: Profile, params: Params) -> RuleResult:
    """Sequential Phragmén: each project's cost is shared by the people who
    voted for it, as evenly as possible across everything they already carry;
    the project that keeps the heaviest share lowest is funded next. Counting
    stops at the first project that does not fit in the remaining money."""
    m = profile.m
    costs = profile.costs
    approvals = profile.approvals
    tie = profile.tie_rank(params.tie_break)
    budget = profile.budget
    light, heavy = profile.split_supporters()
    # last[g]: index into loads of the last funded project group g supports
    last = [0] * len(profile.groups)
    loads = [Q(0)]  # loads[0]: nobody funded yet (exact)
    loads_f = [0.0]  # the same, as the nearest floats
    remaining = {c for c in range(m) if costs[c] <= budget}
    # a float within a relative ``tol`` of every exact new load (see the docstring)
    floats = max(costs, default=0) < 1 << 1000
    tol = (m + 4) * 2.0**-52
    near = (1 + tol) / (1 - tol) if floats else 1
    stale = {c: ((costs[c] / approvals[c] if floats else Q(costs[c]) / approvals[c])
                 if approvals[c] else None) for c in remaining}
    order: list[int] = []
    details: dict[int, dict] = {}
    reasons: dict[int, str] = {}
    spent = 0
    stop_at = None

    def supporters_by_load(c) -> Counter:
        """Supporters of ``c`` per index of the load they carry (load 0 left out)."""
        if len(light[c]) > 1:
            count = Counter(itemgetter(*light[c])(last))
        else:
            count = Counter(last[g] for g in light[c])
        for g, w in heavy[c]:
            count[last[g]] += w
        count.pop(0, None)  # load 0
        return count

    def new_load(count: Counter, c, exact: bool):
        """(loads of its supporters + its cost) / number of its supporters."""
        if exact:
            return (sum(loads[s] * w for s, w in count.items()) + costs[c]) / Q(approvals[c])
        return (sum(loads_f[s] * w for s, w in count.items()) + costs[c]) / approvals[c]

    while remaining:
        finite = sorted((c for c in remaining if stale[c] is not None),
                        key=lambda c: (stale[c], tie[c]))
        best_load, tied, counts = None, [], {}
        for c in finite:  # floats (or exact values) of the candidates, lazily
            if best_load is not None and stale[c] > best_load * near:
                break  # its exact load exceeds every candidate's that may win
            counts[c] = supporters_by_load(c)
            stale[c] = value = new_load(counts[c], c, not floats)
            if best_load is None or value < best_load:
                best_load = value
        if best_load is not None:  # the exact race among those near the best
            limit = best_load * near if floats else best_load
            best_load = None
            for c in counts:
                if stale[c] > limit:
                    continue
                value = new_load(counts[c], c, True) if floats else stale[c]
                if best_load is None or value < best_load:
                    best_load, tied = value, [c]
                elif value == best_load:
                    tied.append(c)
        if best_load is None:  # only projects nobody supports are left
            tied = sorted(remaining)
        if any(spent + costs[c] > budget for c in tied):
            stop_at = min(tied, key=tie.__getitem__)
            break
        f = min(tied, key=tie.__getitem__)
        remaining.discard(f)
        order.append(f)
        spent += costs[f]
        details[f] = {"round": len(order), "load": _num(best_load)}
        if best_load is None:
            reasons[f] = f"Funded in round {len(order)}: nobody voted for it, but it still fit."
            continue
        reasons[f] = (f"Funded in round {len(order)}: its {approvals[f]:,} supporters could share "
                      f"its cost so that no one carries more than {profile.money(best_load)}.")
        s_new = len(loads)
        loads.append(best_load)
        loads_f.append(float(best_load) if floats else 0.0)
        for g in light[f]:
            last[g] = s_new
        for g, _ in heavy[f]:
            last[g] = s_new
    for c in range(m):
        if c in details:
            continue
        details[c] = {"stopped_at": profile.ids[stop_at] if stop_at is not None else None}
        if costs[c] > budget:
            reasons[c] = f"Not funded: it costs more than the whole budget ({profile.money(budget)})."
        elif not approvals[c]:
            reasons[c] = "Not funded: nobody voted for it."
        elif c == stop_at:
            reasons[c] = (f"Not funded: it was next, but it costs {profile.money(costs[c])} and only "
                          f"{profile.money(budget - spent)} was left, so counting stopped.")
        else:
            reasons[c] = (f"Not funded: counting stopped at project {profile.ids[stop_at]}, "
                          "which did not fit, before its turn." if stop_at is not None
                          else "Not funded.")
    return RuleResult(order, details, reasons)
