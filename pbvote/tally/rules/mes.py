"""Method of Equal Shares (MES), exact, with its completions.

**The rule.** Every voter gets an equal share ``t`` of the budget (budget /
number of voters). Round after round, for each project we find the smallest
``rho`` such that its supporters, each paying ``min(own money left,
rho x utility)``, together cover its cost; the project with the smallest
``rho`` (its voters pay the least per unit of utility) is funded and its
supporters pay. Projects whose supporters no longer have enough money
together drop out. It ends when no project can be paid for.

**Exactness.** Money is in the smallest currency unit; shares and payments
are exact rationals (``gmpy2.mpq`` or ``fractions.Fraction``), so every
comparison of ``rho`` values - which decides the outcome - is exact.
Ties are broken by the tie-break order (``lexico`` or ``equalshares``).

**Speed, without approximation.**

* *Voter classes.* Two voters who support the same funded projects have
  paid the same amounts, so they hold the same money. Voters are kept in
  classes keyed by the set of funded projects they support (and, for point
  utilities, what they gave each); a project's supporters are summarised as
  ``{class: weight}``. Computing ``rho`` costs the number of classes among
  its supporters, not the number of voters.
* *Lazy evaluation.* Money only decreases, so a project's ``rho`` only
  increases from round to round: its last value is a lower bound. Projects
  are visited by increasing lower bound and the round stops as soon as a
  lower bound is larger than the best exact ``rho`` found (pabutools does
  the same, so ties resolve identically).

**add1 completion without one run per currency unit.** ``add1`` reruns MES
with the per-voter share raised by one unit (``t = budget/n + k``,
``k = 0, 1, 2, ...``), keeps the last outcome that fits the real budget and
stops at the first one that is exhaustive. Within one run every money
amount is an affine function ``a*t + b`` of the share ``t`` as long as the
*combinatorial* course of the run is the same (which classes pay in full,
which project wins each round, which drop out): costs are constants, a
class's money starts at ``t`` and each payment is either all its money or
``rho*u`` where ``rho`` solves a linear equation in the classes' money. So
the run at ``t0`` carries the slope of every amount next to its value, and
for every comparison it makes (``d(t0) >= 0`` or ``< 0``) it computes where
that affine ``d`` changes sign. Below the nearest such point the run would
make exactly the same decisions, hence the same outcome; the next run is at
the first ``k`` at or beyond it (never fewer than one unit ahead). The
result is identical to stepping one unit at a time - it skips only runs that
provably repeat the previous outcome. Consecutive runs usually share a
prefix of funded projects, and the voter classes after each prefix are
cached, so a rerun only recomputes money, not classes.
"""

from __future__ import annotations

from math import ceil

from ..profile import Profile, Q
from .base import Params, RuleResult, money
from .greedy import utilitarian_completion

class _Classes:
    """Voter classes after each prefix of funded projects (shared by runs)."""

    def __init__(self, profile: Profile, utility: str):
        self.points = utility == "points"
        g_utils = profile.group_utilities("points" if self.points else "approvals")
        self.items: list[tuple[tuple[int, int], ...]] = []
        self.weights: list[int] = []
        supporters: list[list[tuple[int, int]]] = [[] for _ in range(profile.m)]
        ub = 1
        for g, ((projects, _, w), utils) in enumerate(zip(profile.groups, g_utils)):
            items = tuple((c, u) for c, u in zip(projects, utils) if u > 0)
            self.items.append(items)
            self.weights.append(w)
            for c, u in items:
                supporters[c].append((g, u))
                if u >= ub:
                    ub = u + 1
        self.ub = ub if self.points else 1
        self.supporters = supporters
        self.child: dict[tuple[int, int, int], int] = {}
        self.parent: list[tuple[int, int, int] | None] = [None]  # class 0 = nothing funded
        # state after each prefix: (class of every group, {key: weight} per project)
        cnt0 = []
        for c in range(profile.m):
            d: dict[int, int] = {}
            for g, u in supporters[c]:
                k = u if self.points else 0
                d[k] = d.get(k, 0) + self.weights[g]
            cnt0.append(d)
        self.states = [([0] * len(self.items), cnt0)]
        self.seq: list[int] = []

    def child_of(self, cls: int, f: int, u: int) -> int:
        key = (cls, f, u)
        new = self.child.get(key)
        if new is None:
            new = len(self.parent)
            self.child[key] = new
            self.parent.append(key)
        return new

    def advance(self, i: int, f: int):
        """State after funding ``f`` in round ``i`` (cached by prefix)."""
        if i < len(self.seq) and self.seq[i] == f:
            return self.states[i + 1]
        del self.seq[i:]
        del self.states[i + 1:]
        gcls_old, cnt_old = self.states[i]
        gcls = list(gcls_old)
        cnt = list(cnt_old)
        copied = [False] * len(cnt)
        ub, points = self.ub, self.points
        items, weights = self.items, self.weights
        for g, uf in self.supporters[f]:
            old = gcls[g]
            new = self.child_of(old, f, uf if points else 0)
            gcls[g] = new
            w = weights[g]
            for c, u in items[g]:
                if not copied[c]:
                    cnt[c] = dict(cnt[c])
                    copied[c] = True
                d = cnt[c]
                k_old = old * ub + (u if points else 0)
                left = d[k_old] - w
                if left:
                    d[k_old] = left
                else:
                    del d[k_old]
                k_new = new * ub + (u if points else 0)
                d[k_new] = d.get(k_new, 0) + w
        self.seq.append(f)
        self.states.append((gcls, cnt))
        return self.states[i + 1]


class _Run:
    """One MES run at per-voter share ``t``; optionally tracks where it changes."""

    def __init__(self, profile: Profile, classes: _Classes, utility: str,
                 tie: list[int], t, track: bool):
        self.p = profile
        self.cl = classes
        self.tie = tie
        self.t = t
        self.track = track
        self.next_change = None  # smallest t' > t where a decision may flip
        m = profile.m
        self.mult = list(profile.costs) if utility == "cost" else [1] * m

    # -- change tracking ----------------------------------------------------
    def watch(self, d0, d1) -> None:
        """A decision was taken on the sign of ``d(t) = d0 + d1 (t - t0)``."""
        if not d1:
            return
        if d0 == 0:
            root = self.t
        elif (d0 > 0) == (d1 > 0):
            return
        else:
            root = self.t - Q(d0) / d1
        if self.next_change is None or root < self.next_change:
            self.next_change = root

    # -- one project --------------------------------------------------------
    def rho(self, c: int, cnt: dict[int, int], val: dict, slope: dict):
        """Return ``(rho, rho_slope)`` or ``None`` if unaffordable."""
        cl = self.cl
        ub, points = cl.ub, cl.points
        cost = self.p.costs[c]
        track = self.track
        entries = []
        total = 0
        total_slope = 0
        denom = 0
        for key, w in cnt.items():
            cls = key // ub
            u = key % ub if points else 1
            b = val[cls]
            total += b * w
            denom += u * w
            if track:
                total_slope += slope[cls] * w
            entries.append((b / u if points else b, b, u, w, cls))
        if total < cost:
            if track:
                self.watch(total - cost, total_slope)
            return None
        if track:
            self.watch(total - cost, total_slope)
        entries.sort(key=lambda e: e[0])
        paid = 0
        paid_slope = 0
        r = None
        stop = len(entries)
        for j, (_, b, u, w, cls) in enumerate(entries):
            r_try = Q(cost - paid) / denom
            if r_try * u <= b:
                r = r_try
                stop = j
                break
            paid += b * w
            denom -= u * w
            if track:
                paid_slope += slope[cls] * w
        if r is None:  # pragma: no cover - excluded by the total check
            raise AssertionError("affordable project without a solution")
        r_slope = -Q(paid_slope) / denom if track else 0
        if track:
            for j, (_, b, u, w, cls) in enumerate(entries):
                d0 = r * u - b
                d1 = r_slope * u - slope[cls]
                if j >= stop:  # pays r*u <= b
                    d0, d1 = -d0, -d1
                self.watch(d0, d1)
        m = self.mult[c]
        return (r / m, r_slope / m) if m != 1 else (r, r_slope)

    # -- the whole run ------------------------------------------------------
    def run(self, start_order: list[int], alive: list[int]):
        p, cl, tie, track = self.p, self.cl, self.tie, self.track
        costs = p.costs
        val = {0: Q(self.t)}
        slope = {0: Q(1)}
        order = list(start_order)
        # initial lower bounds: cost / total utility (as if money were unlimited)
        stale = {}
        cnt0 = cl.states[0][1]
        for c in alive:
            tot = sum((k % cl.ub if cl.points else 1) * w for k, w in cnt0[c].items())
            stale[c] = (Q(costs[c]) / tot / self.mult[c], Q(0))
        remaining = set(alive)
        rounds: dict[int, dict] = {}
        i = 0
        state = cl.states[0]
        while remaining:
            cnt_all = state[1]
            cand = sorted(remaining, key=lambda c: (stale[c][0], tie[c]))
            best = None
            best_rho = None
            evaluated = []
            skipped_from = len(cand)
            for j, c in enumerate(cand):
                if best is not None and stale[c][0] > best_rho[0]:
                    skipped_from = j
                    break
                res = self.rho(c, cnt_all[c], val, slope)
                if res is None:
                    remaining.discard(c)
                    continue
                stale[c] = res
                evaluated.append(c)
                if best is None or res[0] < best_rho[0] or (res[0] == best_rho[0] and tie[c] < tie[best]):
                    best, best_rho = c, res
            if best is None:
                break
            if track:
                for c in evaluated:
                    if c != best:
                        self.watch(stale[c][0] - best_rho[0], stale[c][1] - best_rho[1])
                for c in cand[skipped_from:]:
                    self.watch(stale[c][0] - best_rho[0], stale[c][1] - best_rho[1])
            # pay
            m = self.mult[best]
            r, r1 = best_rho[0] * m, best_rho[1] * m
            for key in cnt_all[best]:
                cls = key // cl.ub
                u = key % cl.ub if cl.points else 1
                new = cl.child_of(cls, best, u if cl.points else 0)
                b = val[cls]
                pay = r * u
                if b <= pay:
                    val[new] = Q(0)
                    slope[new] = Q(0)
                else:
                    val[new] = b - pay
                    if track:
                        slope[new] = slope[cls] - r1 * u
                    else:
                        slope[new] = 0
            rounds[best] = {"round": i + 1, "rho": best_rho[0], "r": r}
            order.append(best)
            remaining.discard(best)
            state = cl.advance(i, best)
            i += 1
        self.state = state
        self.val = val
        self.rounds = rounds
        return order


def _mes_projects(profile: Profile, classes: _Classes) -> tuple[list[int], list[int]]:
    """(free supported projects, projects MES considers)."""
    free, alive = [], []
    for c in range(profile.m):
        if not classes.states[0][1][c]:
            continue  # nobody supports it
        (free if profile.costs[c] == 0 else alive).append(c)
    return free, alive


def _next_t(t, k: int, change) -> int:
    """The next k to try: the first grid point at or after ``change``."""
    if change is None:
        return None
    step = change - t
    return k + max(1, int(ceil(step)))


def run_mes(profile: Profile, params: Params) -> RuleResult:
    """Method of Equal Shares: the budget is split equally among all voters,
    and a project is funded only if the people who voted for it can pay for it
    together from their shares; the project that costs its supporters the least
    per unit of benefit goes first. Each group of like-minded voters thus
    decides over its fair share of the budget. Completions spend what is left:
    ``add1`` raises everyone's share step by step while the result still fits
    the budget, ``greedy`` funds the most popular remaining projects that fit."""
    utility, completion = params.utility, params.completion
    tie = profile.tie_rank(params.tie_break)
    classes = _Classes(profile, utility)
    free, alive = _mes_projects(profile, classes)
    n = profile.n_voters
    budget = profile.budget
    base = Q(budget) / n if n else Q(0)
    info: dict = {"per_voter_share": base}
    if n == 0:
        order, last = list(free), None
    elif completion in ("add1", "add1+greedy"):
        order, last, runs, naive, final_t = _add1(profile, classes, utility, tie, free, alive, base)
        info.update(mes_runs=runs, naive_mes_runs=naive, final_per_voter_share=final_t)
    else:
        last = _Run(profile, classes, utility, tie, base, track=False)
        order = last.run(free, alive)
    mes_order = list(order)
    result = _explain(profile, params, mes_order, last, free)
    if completion in ("greedy", "add1+greedy"):
        filled = utilitarian_completion(profile, params, mes_order)
        for c in filled.order[len(mes_order):]:
            result.details[c] = {**result.details.get(c, {}), "completion": "greedy",
                                 **filled.details[c]}
            result.reasons[c] = ("Funded in the completion step: " + filled.reasons[c][len("Funded: "):])
        result.order = filled.order
    result.info.update(info)
    return result


def _add1(profile, classes, utility, tie, free, alive, base):
    """The add1 loop, jumping over shares that provably repeat an outcome."""
    budget = profile.budget
    costs = profile.costs
    previous_order, previous_run = list(free), None
    alive_set = set(alive)
    k = 0
    runs = 0
    while True:
        t = base + k
        run = _Run(profile, classes, utility, tie, t, track=True)
        order = run.run(free, alive)
        runs += 1
        spent = sum(costs[c] for c in order)
        if spent > budget:
            # every share from the previous run up to t - 1 gave previous_order
            return previous_order, previous_run, runs, k + 1, (t - 1 if previous_run else None)
        chosen = set(order)
        exhaustive = all(spent + costs[c] > budget for c in alive_set - chosen)
        if exhaustive:
            return order, run, runs, k + 1, t
        previous_order, previous_run = order, run
        nxt = _next_t(t, k, run.next_change)
        if nxt is None:  # pragma: no cover - no decision depends on t any more
            return order, run, runs, k + 1, t
        k = nxt


def _explain(profile: Profile, params: Params, order: list[int], run, free) -> RuleResult:
    details, reasons = {}, {}
    chosen = set(order)
    costs = profile.costs
    per_unit = {"cost": "per unit of cost", "approvals": "", "points": "per point"}[params.utility]
    rounds = run.rounds if run is not None else {}
    val = run.val if run is not None else {}
    state = run.state if run is not None else None
    for c in range(profile.m):
        if c in free:
            details[c] = {"round": 0}
            reasons[c] = "Funded: it costs nothing and has supporters."
            continue
        if c in rounds:
            rd = rounds[c]
            eff = Q(costs[c]) / rd["r"] if rd["r"] else None
            details[c] = {"round": rd["round"], "effective_votes": _num(eff),
                          "max_payment": _num(rd["r"])}
            reasons[c] = (f"Funded in round {rd['round']}: its supporters could pay "
                          f"{money(costs[c])} with at most {money(rd['r'])} each "
                          f"{per_unit}".rstrip() + f" (effective votes {float(eff):,.1f}).")
            continue
        can_pay = None
        if state is not None and state[1][c]:
            cl = run.cl
            can_pay = sum(val[key // cl.ub] * w for key, w in state[1][c].items())
        if can_pay is None:
            details[c] = {"supporters_can_pay": 0, "cost": costs[c]}
            reasons[c] = "Not funded: nobody voted for it." if profile.approvals[c] == 0 else \
                "Not funded."
            continue
        details[c] = {"supporters_can_pay": _num(can_pay), "cost": costs[c]}
        if c in chosen:
            continue
        if can_pay < costs[c]:
            reasons[c] = (f"Not funded: its supporters had only {money(can_pay)} left of their "
                          f"shares, less than its cost {money(costs[c])}.")
        else:  # pragma: no cover - MES ends only when nothing is affordable
            reasons[c] = "Not funded."
    return RuleResult(list(order), details, reasons)


def _num(x):
    """Explanation numbers: ints stay ints, exact rationals become floats."""
    if x is None:
        return None
    if getattr(x, "denominator", 1) == 1:
        return int(x)
    return round(float(x), 4)
