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

* *Voter classes.* Voters holding exactly the same money form one class
  (identical ballots always do; so do many others). Each ballot group
  records its class; a project's supporters per class are counted with
  ``collections.Counter`` at C speed, so ``rho`` is solved over a few
  classes instead of all voters. Voters who spent everything are dropped.
* *Poor/rich split.* ``rho`` is found by starting from "everybody pays the
  same" and moving the voters who cannot afford it to "pays all she has",
  a few linear passes instead of a sort of all supporters.
* *Lazy evaluation.* Money only decreases, so a project's ``rho`` only
  increases from round to round: its last value is a lower bound. Projects
  are visited by increasing lower bound and the round stops as soon as a
  lower bound is larger than the best exact ``rho`` found (pabutools does
  the same, so ties resolve identically).

**add1 without one run per currency unit.** ``add1`` reruns MES with the
per-voter share raised by one unit (``t = budget/n + k``, ``k = 0, 1, ...``),
keeps the last outcome that fits the real budget and stops at the first
exhaustive one. Both tests depend only on the funded set, so a whole range
of shares with the same outcome can be settled at once. Exact ways to
know such a range (see :func:`_add1`; the default is ``bounds+auto``):

* *Interval certificates by monotonicity* (:meth:`_Run.certify`). If the
  runs at shares ``t < t'`` fund the same projects in the same rounds, every
  share in between does too, provided the run at ``t'`` sees no project
  beat the winner's ``rho`` recorded at ``t`` (money is monotone in the
  share round by round, so ``rho`` and affordability are sandwiched; proof
  in the method's docstring). One run at ``t'`` settles ``[t, t']``; the
  probe distance doubles while that works, and a probe that fails at the
  very next share is finished as an ordinary run there, so no run is ever
  wasted where the outcome changes at every step.
* *Affine change points* (``jump``). Within one run every amount of money
  is an affine function ``a*t + b`` of the share as long as the run's
  course does not change (who pays in full for each funded project, which
  project wins each round, which drop out): a class starts with ``t`` and
  each payment is either all its money or ``rho*u``, with ``rho`` solving a
  linear equation. So a run at ``t0`` carries each amount's slope next to
  its value and, for every decision it takes on the sign of some ``d(t)``,
  computes where that affine ``d`` changes sign; below the nearest such
  point every decision, hence the outcome, is the same. For projects that
  are *not* funded in a round, the affine ``rho`` of their current split is
  a lower bound of their true ``rho`` at every ``t``, so only the funded
  project's split must stay fixed; each run snapshots its state after every
  round with the point up to which those rounds stay valid, and the next
  run resumes from the deepest valid snapshot. On big elections some class
  crosses a payment boundary at almost every unit step, so this rarely
  jumps there, and tracking slopes makes each run slower; it remains
  available (``ADD1_METHODS``) and is checked against unit steps in tests.

* *Integer bounds* (:mod:`.mes_bounds`, needs numpy; the default path for
  ``cost`` and ``approvals`` utilities). Each run is computed on exact
  integer lower/upper bounds of every voter's money instead of rationals
  (numpy gathers and sums), every decision is taken only when the bounds
  imply it or it is computed exactly, and a run whose decision they cannot
  take is redone with the exact rationals below. In the add1 loop the runs
  are done in C when the optional extension is built (``KernelRun``: the
  same decisions, one call per run; see ``KERNEL``). ``bounds+auto`` (the
  default) uses the interval certificates upwards while outcomes last, and
  descending blocks of shares where they change at almost every step: a
  run at a smaller share borrows the lower bounds of the run just above
  (same monotonicity fact). Explanations are exact too (the final run's
  payments and money left, computed exactly from the bounds run, or the
  exact run).

Either way the result is identical to stepping one unit at a time.
"""

from __future__ import annotations

from collections import Counter, deque
from math import ceil, lcm
from operator import itemgetter, mul

from ..profile import Profile, Q
from .base import Params, RuleResult
from .base import plain_number as _num
from .greedy import utilitarian_completion

try:  # the fast path needs numpy; without it every run is the exact one
    from . import mes_bounds as _bounds
except ImportError:  # pragma: no cover - depends on the environment
    _bounds = None

_VOTERS = itemgetter(3)


def _gather(light: list[int]):
    """A function ``cls -> tuple(cls[g] for g in light)`` running at C speed."""
    if len(light) > 1:
        return itemgetter(*light)
    if light:
        g = light[0]
        return lambda cls: (cls[g],)
    return lambda cls: ()


class _Support:
    """Who supports what: per project, the groups of identical ballots.

    ``parts[c]`` lists ``(utility, light, heavy, classes_of)``: one entry
    for approval-style utilities, one per points value otherwise; ``light``
    are the groups of a single voter (counted at C speed with ``Counter``),
    ``heavy`` the ``(group, weight)`` pairs of larger groups, and
    ``classes_of(cls)`` the tuple ``cls[g] for g in light``, gathered at C
    speed by an ``itemgetter`` built once.
    """

    def __init__(self, profile: Profile, utility: str):
        self.points = points = utility == "points"
        self.n_groups = len(profile.groups)
        self.parts: list[list[tuple[int, list, list]]] = [[] for _ in range(profile.m)]
        self.total_utility = [0] * profile.m
        if not points:
            lights, heavies = profile.split_supporters()
            for c in range(profile.m):
                if profile.approvals[c]:
                    self.parts[c].append((1, lights[c], heavies[c], _gather(lights[c])))
                    self.total_utility[c] = profile.approvals[c]
            return
        split: dict[tuple[int, int], tuple[list, list]] = {}
        for g, (projects, _, w) in enumerate(profile.groups):
            for c, u in zip(projects, profile.scores(g)):
                if u <= 0:
                    continue
                light, heavy = split.setdefault((c, u), ([], []))
                if w == 1:
                    light.append(g)
                else:
                    heavy.append((g, w))
        for (c, u), (light, heavy) in sorted(split.items()):
            self.parts[c].append((u, light, heavy, _gather(light)))
            self.total_utility[c] += u * (len(light) + sum(w for _, w in heavy))

    @classmethod
    def of(cls, profile: Profile, utility: str) -> "_Support":
        key = ("mes-support", utility == "points")
        if key not in profile.cache:
            profile.cache[key] = cls(profile, utility)
        return profile.cache[key]


class _Run:
    """One MES run at per-voter share ``t``; optionally tracks where it changes.

    Voters with exactly the same money form one class: ``money[i]`` is
    ``(amount, slope)`` of class ``i`` (``slope`` is the derivative in ``t``,
    tracked for add1, else 0) and ``cls[g]`` the class of group ``g``.
    Class ``ZERO`` holds those who spent everything; they are skipped, as
    they can pay nothing more.
    """

    ZERO = 0

    def __init__(self, profile: Profile, support: _Support, utility: str,
                 tie: list[int], t, track: bool):
        self.p = profile
        self.sup = support
        self.tie = tie
        self.t = t
        self.track = track
        self.next_change = None  # smallest t' >= t where a decision may flip
        self.mult = list(profile.costs) if utility == "cost" else [1] * profile.m
        start = (Q(t), Q(1) if track else 0)
        self.money = [(Q(0), 0), start]
        self.index = {(0, 0): 0, start: 1}
        self.cls = [1] * support.n_groups
        self.split: dict = {}
        self.snapshots: list[tuple] = []  # after each round, when tracking
        self.order: list[int] = []
        self.stale: dict = {}
        self.remaining: set[int] = set()
        self.rounds: dict[int, dict] = {}

    def snapshot(self) -> tuple:
        """Everything a later run needs to resume after this round."""
        return (self.next_change, self.t, list(self.cls), list(self.money), dict(self.stale),
                set(self.remaining), list(self.order), dict(self.rounds))

    def resume(self, snap: tuple) -> None:
        """Continue from ``snap`` (taken at share ``t0``) at this run's share.

        Valid when this run's ``t`` is below the snapshot's change point:
        every decision so far is then the same, and every amount is the
        same affine function of ``t``, evaluated here at the new ``t``.
        """
        limit, t0, cls, money, stale, remaining, order, rounds = snap
        dt = self.t - t0
        self.next_change = limit
        self.cls = list(cls)
        self.money = [(b + b1 * dt, b1) for b, b1 in money]
        self.index = {key: i for i, key in enumerate(self.money)}
        self.stale = {c: (v + v1 * dt, v1) for c, (v, v1) in stale.items()}
        self.remaining = set(remaining)
        self.order = list(order)
        self.rounds = {c: {**rd, "r": rd["r"] + rd["r1"] * dt} for c, rd in rounds.items()}

    def intern(self, key) -> int:
        i = self.index.get(key)
        if i is None:
            i = self.index[key] = len(self.money)
            self.money.append(key)
        return i

    # -- change tracking ----------------------------------------------------
    def watch(self, d0, d1) -> None:
        """A decision was taken on the sign of ``d(t) = d0 + d1 (t - t0)``.

        Every decision is ``d >= 0`` (or ``d < 0`` with ``d0 < 0``): equality
        counts as the non-negative side (affordable, still rich, tie won by
        the same project), so ``d0 == 0`` only matters if ``d`` decreases.
        """
        if not d1:
            return
        if d0 == 0:
            if d1 > 0:
                return
            root = self.t
        elif (d0 > 0) == (d1 > 0):
            return
        else:
            root = self.t - Q(d0) / d1
        if self.next_change is None or root < self.next_change:
            self.next_change = root

    # -- one project --------------------------------------------------------
    def entries(self, c: int) -> list:
        """``(money, slope, utility, voters)`` per class among ``c``'s supporters."""
        out = []
        cls, money = self.cls, self.money
        for u, _, heavy, classes_of in self.sup.parts[c]:
            count = Counter(classes_of(cls))
            for g, w in heavy:
                count[cls[g]] += w
            count.pop(0, None)  # nothing left to pay with
            out += [(m[0], m[1], u, w) for m, w in zip(map(money.__getitem__, count), count.values())]
        return out

    def money_left(self, c: int):
        """Money ``c``'s supporters still hold (exact, summed per class)."""
        cls, money = self.cls, self.money
        total = 0
        for _, _, heavy, classes_of in self.sup.parts[c]:
            count = Counter(classes_of(cls))
            for g, w in heavy:
                count[cls[g]] += w
            count.pop(0, None)
            total += sum(money[i][0] * w for i, w in count.items())
        return total

    def money_left_all(self, projects) -> dict:
        """:meth:`money_left` for several projects, exact and summed at C speed.

        Every class's money is written over one common denominator (the
        least common multiple of theirs, a few hundred bits on the shared
        files), so each project's total is one integer dot product; above
        ``2**4096`` it falls back to summing the rationals.
        """
        amounts = [m[0] for m in self.money]
        dens = {int(Q(a).denominator) for a in amounts}
        common = lcm(*dens) if dens else 1
        if common.bit_length() > 4096:  # pragma: no cover - not seen on real data
            return {c: self.money_left(c) for c in projects}
        scaled = [int(Q(a).numerator) * (common // int(Q(a).denominator)) for a in amounts]
        cls = self.cls
        out = {}
        for c in projects:
            total = 0
            for _, _, heavy, classes_of in self.sup.parts[c]:
                count = Counter(classes_of(cls))
                for g, w in heavy:
                    count[cls[g]] += w
                total += sum(map(mul, map(scaled.__getitem__, count), count.values()))
            out[c] = Q(total, common) if common != 1 else total
        return out

    def rho(self, c: int, entries: list):
        """Return ``(rho, rho_slope)`` for project ``c``, or ``None`` if unaffordable.

        Solves ``sum(min(money, r * u) * voters) = cost`` by the poor/rich
        split: start with ``r = cost / total utility``; whoever cannot pay
        ``r * u`` pays all her money and ``r`` is recomputed for the rest,
        until nobody else is short. ``r`` only grows, so this ends with the
        exact solution after a few linear passes.
        """
        cost = self.p.costs[c]
        track = self.track
        rich = entries
        uniform = not self.sup.points
        denom = sum(map(_VOTERS, entries)) if uniform else sum(u * w for _, _, u, w in entries)
        paid = 0
        paid_slope = 0
        poor_all = []
        while True:
            if not denom:  # everyone pays all they have and it is not enough
                if track:
                    self.watch(paid - cost, paid_slope)
                return None
            r = Q(cost - paid) / denom
            if uniform:
                poor = [e for e in rich if e[0] < r]
                if not poor:
                    break
                rich = [e for e in rich if not e[0] < r]
            else:
                poor = [e for e in rich if e[0] < r * e[2]]
                if not poor:
                    break
                rich = [e for e in rich if not e[0] < r * e[2]]
            for b, b1, u, w in poor:
                paid += b * w
                denom -= u * w
                if track:
                    paid_slope += b1 * w
            if paid >= cost and denom:
                pass  # r = (cost - paid) / denom <= 0 cannot happen: poor had b < r*u
            poor_all.extend(poor)
        r_slope = -Q(paid_slope) / denom if track else 0
        if track:
            self.split[c] = (poor_all, rich, r, r_slope)
        m = self.mult[c]
        return (r / m, r_slope / m) if m != 1 else (r, r_slope)

    def watch_split(self, c: int) -> None:
        """Keep the winner's payments affine: who pays all, who pays ``r*u``.

        Only the funded project needs this. For any other project the
        affine ``r(t)`` of its current split is a lower bound of its true
        ``r`` at every ``t`` (paying ``min(money, r*u)`` never collects more
        than the split assumes), which is all its comparisons need.
        """
        poor, rich, r, r_slope = self.split[c]
        for b, b1, u, w in poor:  # pays everything: b <= r*u
            self.watch(r * u - b, r_slope * u - b1)
        for b, b1, u, w in rich:  # pays r*u <= b
            d1 = b1 - r_slope * u
            if d1 < 0 or b == r * u:
                self.watch(b - r * u, d1)

    # -- the whole run ------------------------------------------------------
    def start(self, start_order: list[int], alive: list[int]) -> None:
        costs = self.p.costs
        self.order = list(start_order)
        # first lower bounds: cost / total utility (as if money were unlimited)
        self.stale = {c: (Q(costs[c]) / self.sup.total_utility[c] / self.mult[c], 0)
                      for c in alive}
        self.remaining = set(alive)

    def run(self, start_order: list[int] | None = None, alive: list[int] | None = None) -> list[int]:
        """Run (or, after :meth:`resume`, finish) MES; return the funded order."""
        if start_order is not None:
            self.start(start_order, alive)
        tie, track = self.tie, self.track
        stale, remaining, rounds, order = self.stale, self.remaining, self.rounds, self.order
        while remaining:
            cand = sorted(remaining, key=lambda c: (stale[c][0], tie[c]))
            best = None
            best_rho = None
            evaluated = []
            skipped_from = len(cand)
            for j, c in enumerate(cand):
                if best is not None and stale[c][0] > best_rho[0]:
                    skipped_from = j
                    break
                res = self.rho(c, self.entries(c))
                if res is None:
                    remaining.discard(c)
                    continue
                stale[c] = res
                evaluated.append(c)
                if best is None or res[0] < best_rho[0] or (
                        res[0] == best_rho[0] and tie[c] < tie[best]):
                    best, best_rho = c, res
            if best is None:
                break
            if track:
                self.watch_split(best)
                for c in evaluated:
                    if c != best:
                        self.watch(stale[c][0] - best_rho[0], stale[c][1] - best_rho[1])
                for c in cand[skipped_from:]:
                    self.watch(stale[c][0] - best_rho[0], stale[c][1] - best_rho[1])
            m = self.mult[best]
            r, r1 = best_rho[0] * m, best_rho[1] * m
            self.pay(best, r, r1)
            rounds[best] = {"round": len(rounds) + 1, "r": r, "r1": r1}
            order.append(best)
            remaining.discard(best)
            if track:
                self.snapshots.append(self.snapshot())
        return order

    def certify(self, start_order: list[int], alive: list[int], plan: list[tuple[int, object]]):
        """Check that every share in ``[t0, self.t]`` gives the run ``plan`` recorded at ``t0``.

        ``plan`` lists, round by round, the winner ``q`` of the run at the
        lower share ``t0 <= self.t`` and its exact ``rho_q(t0)`` (as compared,
        i.e. divided by the utility multiplier). This run is the lazy MES loop
        at ``self.t`` that, instead of looking for the best project, only
        checks that no project beats ``rho_q(t0)`` here, then pays ``q``.
        Returns the number of certified rounds: ``len(plan)`` plus one (the
        end) when the whole outcome holds on the interval, fewer when it
        stopped at the first round it could not certify.

        Why this is enough (the shares in between are never run): let
        ``t0 <= t <= t1 = self.t`` and suppose the runs at ``t0`` and ``t1``
        fund the same projects in rounds ``1..r`` and the run at ``t`` does
        too. Then after round ``r`` every voter's money at ``t`` lies between
        her money at ``t0`` and at ``t1``. By induction on ``r``: before
        round 1 the money is the share itself. If it holds before round
        ``r`` (``b(t0) <= b(t) <= b(t1)`` voter by voter), the payment
        function ``P(rho) = sum(min(b_i, rho * u_i))`` of any project is
        pointwise larger at ``t`` than at ``t0`` and smaller than at
        ``t1``; ``rho`` is the least root of ``P(rho) = cost``, so
        ``rho(t1) <= rho(t) <= rho(t0)`` for every project, affordability
        (``P(infinity) = sum(b_i) >= cost``) is monotone the same way, and
        the funded project's supporters keep ``max(0, b_i - rho * u_i)``,
        which grows with ``b_i`` and shrinks with ``rho``: the order is
        kept after round ``r``. Now round ``r + 1``: the recorded winner
        ``q`` was affordable at ``t0``, so it is at ``t``, with
        ``rho_q(t) <= rho_q(t0)``. Every other project ``p`` is either
        unaffordable at ``t1``, hence at ``t``, or has
        ``rho_p(t) >= rho_p(t1)``, and this run checked ``rho_p(t1) >
        rho_q(t0)``, or equality with ``q`` ahead of ``p`` in the tie-break
        order; either way ``q`` wins round ``r + 1`` at ``t`` as well. The
        end is the same: if nothing is affordable at ``t1`` after the
        last round, nothing is at ``t``. Lower bounds carried over from
        earlier rounds of this run stay lower bounds (money only decreases
        within a run), so projects are visited by increasing lower bound
        and exact ``rho`` is computed only while that bound does not
        already decide the comparison.
        """
        self.start(start_order, alive)
        tie = self.tie
        stale, remaining, rounds, order = self.stale, self.remaining, self.rounds, self.order
        for depth, (q, theta) in enumerate(plan):
            key_q = (theta, tie[q])
            cand = sorted(remaining, key=lambda c: (stale[c][0], tie[c]))
            for c in cand:
                if c == q:
                    continue
                if (stale[c][0], tie[c]) > key_q:
                    break  # this bound and all later ones already lose to q
                res = self.rho(c, self.entries(c))
                if res is None:
                    remaining.discard(c)
                    continue
                stale[c] = res
                if (res[0], tie[c]) < key_q:
                    return depth  # p may win round depth + 1 somewhere in the interval
            res = self.rho(q, self.entries(q))
            if res is None or q not in remaining:  # pragma: no cover - impossible by monotonicity
                raise AssertionError("certified winner unaffordable at the larger share")
            m = self.mult[q]
            self.pay(q, res[0] * m, 0)
            rounds[q] = {"round": len(rounds) + 1, "r": res[0] * m, "r1": 0}
            order.append(q)
            remaining.discard(q)
        costs = self.p.costs
        for c in sorted(remaining, key=tie.__getitem__):
            if self.money_left(c) >= costs[c]:
                return len(plan)  # might be funded after the last round somewhere
        return len(plan) + 1

    def pay(self, f: int, r, r1) -> None:
        """Supporters of ``f`` pay ``min(money, r * utility)``."""
        cls, money, track = self.cls, self.money, self.track
        for u, light, heavy, classes_of in self.sup.parts[f]:
            pay, pay1 = r * u, r1 * u
            olds = classes_of(cls)
            moved = {}
            classes = set(olds).union(cls[g] for g, _ in heavy)
            if not track:  # the same as below with no slopes, inlined (hot loop)
                index = self.index
                for i in classes:
                    b = money[i][0]
                    if b <= pay:
                        moved[i] = 0
                        continue
                    key = (b - pay, 0)
                    j = index.get(key)
                    if j is None:
                        j = index[key] = len(money)
                        money.append(key)
                    moved[i] = j
                classes = ()
            for i in classes:
                b, b1 = money[i]
                if b < pay or (b == pay and not (track and b1 != pay1)):
                    moved[i] = 0  # spent everything, for good
                else:  # pays r*u; with b == r*u, keeps 0 now but a slope in t
                    moved[i] = self.intern((b - pay, b1 - pay1 if track else 0))
            # cls[g] = moved[cls[g]] for every g in light, looped at C speed
            deque(map(cls.__setitem__, light, map(moved.__getitem__, olds)), maxlen=0)
            for g, _ in heavy:
                cls[g] = moved[cls[g]]


def _mes_projects(profile: Profile, support: _Support) -> tuple[list[int], list[int]]:
    """(free supported projects, projects MES considers)."""
    free, alive = [], []
    for c in range(profile.m):
        if not support.parts[c]:
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
    support = _Support.of(profile, utility)
    free, alive = _mes_projects(profile, support)
    free.sort(key=tie.__getitem__)  # free projects come first, in tie-break order
    n = profile.n_voters
    budget = profile.budget
    base = Q(budget) / n if n else Q(0)
    info: dict = {"per_voter_share": base}
    if n == 0:
        order, last = list(free), None
    elif completion in ("add1", "add1+greedy"):
        st: dict = {}
        order, last, runs, naive, final_t = _add1(profile, support, utility, tie, free, alive, base,
                                                  method=ADD1_METHOD, stats=st)
        info.update(mes_runs=runs, naive_mes_runs=naive, final_per_voter_share=final_t,
                    mes_kernel_runs=st.get("kernel_runs", 0))
        if last is not None and (final_t != last.t or not isinstance(last, _Run)):
            # explain with the money of the final share itself (same outcome by
            # construction; checked, as a guard on the jump logic)
            again, last = explained_run(profile, support, utility, tie, final_t, free, alive)
            if again != order:  # pragma: no cover - would be a bug
                raise AssertionError("add1 jump changed the outcome")
    else:
        order, last = explained_run(profile, support, utility, tie, base, free, alive)
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


def explained_run(profile, support, utility, tie, t, free, alive):
    """``(order, run)``: one MES run at share ``t`` whose ``rounds`` and
    ``money_left_all`` are exact, for :func:`_explain`. On integer bounds with
    exact payments (:mod:`.mes_bounds`) when every decision and every payment
    split is certain there, else the exact rational run."""
    if _bounds is not None and not support.points and FAST:
        mult = list(profile.costs) if utility == "cost" else [1] * profile.m
        run = _bounds._BoundRun(profile, _bounds.BoundSupport.of(profile, support), mult, tie, t,
                                exact_rounds=True)
        order = run.run(free, alive)
        if order is not None and run.explained() is not None:
            return order, run
    run = _Run(profile, support, utility, tie, t, track=False)
    return run.run(free, alive), run


FAST = True  # use mes_bounds when it applies (tests compare both)
KERNEL = True  # in add1, run the bounds in C when the extension is built (tests compare both)

ADD1_METHODS = ("unit", "jump", "interval", "jump+interval", "bounds", "bounds+interval",
                "bounds+blocks", "bounds+auto")
ADD1_METHOD = "bounds+auto"  # what run_mes uses; see _add1


def _add1(profile, support, utility, tie, free, alive, base, method=ADD1_METHOD, stats=None):
    """The add1 loop: the outcome at ``t = base + k`` for ``k = 0, 1, ...``
    until one is over budget (return the previous) or exhaustive (return it).

    Methods (all give the outcome of stepping one unit at a time):

    * ``unit`` - one plain run per unit step (the definition; for tests);
    * ``jump`` - each run tracks the share up to which all its decisions
      stay the same (affine money) and snapshots every round; the next run
      starts at that share and resumes from the deepest valid snapshot;
    * ``interval`` - after a run at ``t`` (the *anchor*), certify its
      outcome over ``[t, t + s]`` with one run at ``t + s``
      (:meth:`_Run.certify`, by monotonicity of money in the share),
      doubling ``s`` while that succeeds. The first probe goes to the next
      share not yet settled, or further (half the length settled from the
      previous anchor) when outcomes have lately lasted long. A probe that
      fails at the next unsettled share is finished as an ordinary run
      there (its certified rounds are exact MES rounds at that share and
      its lower bounds stay valid), so it becomes the next anchor and costs
      nothing extra: where the outcome changes at every unit step this is
      one run per step, like ``unit``;
    * ``jump+interval`` - both: the jump's own certified extent is where
      the gallop starts;
    * ``bounds``, ``bounds+interval``, ``bounds+blocks``, ``bounds+auto``
      (the default) - the same on integer-bound runs (:mod:`.mes_bounds`,
      :func:`_add1_bounds`, :func:`_add1_blocks`, :func:`_add1_auto`); without
      numpy, or with ``points`` utilities, they fall back to ``unit`` /
      ``interval`` on exact runs.

    ``stats`` (a dict), when given, receives counters: ``runs`` (all MES
    runs started, probes included), ``anchors`` (shares whose outcome was
    computed in full), ``certify_ok``, ``certify_failed``, ``continued``
    (failed probes finished as the next anchor) and ``lengths`` (unit
    steps settled per anchor).
    """
    if method.startswith("bounds"):
        if _bounds is not None and not support.points:
            if method == "bounds+blocks":
                return _add1_blocks(profile, support, utility, tie, free, alive, base, stats)
            if method == "bounds+auto":
                return _add1_auto(profile, support, utility, tie, free, alive, base, stats)
            return _add1_bounds(profile, support, utility, tie, free, alive, base,
                                gallop=method == "bounds+interval", stats=stats)
        method = "unit" if method == "bounds" else "interval"
    budget = profile.budget
    costs = profile.costs
    track = method in ("jump", "jump+interval")
    gallop = method in ("interval", "jump+interval")
    previous_order, previous_run = list(free), None
    alive_set = set(alive)
    snapshots: list[tuple] = []
    st = stats if stats is not None else {}
    st.update(runs=0, anchors=0, certify_ok=0, certify_failed=0, continued=0, lengths=[])
    n_free = len(free)
    length = 1
    pending = None  # a failed probe finished at the next share: the next anchor
    k = 0
    while True:
        t = base + k
        st["anchors"] += 1
        if pending is not None:
            run, order, pending = pending, pending.order, None
            tracked = False
        else:
            tracked = track
            run = _Run(profile, support, utility, tie, t, track=track)
            st["runs"] += 1
            depth = 0
            while depth < len(snapshots) and (snapshots[depth][0] is None
                                              or t < snapshots[depth][0]):
                depth += 1
            if depth:
                run.resume(snapshots[depth - 1])
                order = run.run()
            else:
                order = run.run(free, alive)
            if track:
                run.snapshots = snapshots[:depth] + run.snapshots
                snapshots = run.snapshots
        spent = sum(costs[c] for c in order)
        if spent > budget:
            # every share from the previous run up to t - 1 gave previous_order
            return previous_order, previous_run, st["runs"], k + 1, (t - 1 if previous_run else None)
        chosen = set(order)
        exhaustive = all(spent + costs[c] > budget for c in alive_set - chosen)
        if exhaustive:
            return order, run, st["runs"], k + 1, t
        previous_order, previous_run = order, run
        last = k  # every k' in [k, last] gives this outcome
        if tracked:
            nxt = _next_t(t, k, run.next_change)
            if nxt is None:  # pragma: no cover - no decision depends on t any more
                return order, run, st["runs"], k + 1, t
            last = nxt - 1
        if gallop:
            plan = [(c, run.rounds[c]["r"] / run.mult[c]) for c in order[n_free:]]
            step = max(length, last - k + 1)
            while True:
                probe = _Run(profile, support, utility, tie, t + step, track=False)
                st["runs"] += 1
                if probe.certify(free, alive, plan) > len(plan):
                    st["certify_ok"] += 1
                    last = k + step
                    step *= 2
                    continue
                st["certify_failed"] += 1
                if k + step == last + 1:
                    probe.run()
                    pending = probe
                    st["continued"] += 1
                break
            length = max(1, (last - k + 1) // 2)
        st["lengths"].append(last - k + 1)
        k = last + 1


def _add1_bounds(profile, support, utility, tie, free, alive, base, gallop, stats=None):
    """:func:`_add1` with runs on integer bounds (:mod:`.mes_bounds`): methods
    ``bounds`` (one run per unit step) and ``bounds+interval`` (with interval
    certificates, as ``interval``). A run whose decisions the bounds cannot
    all settle is redone exactly (``_Run``); ``stats["exact_runs"]`` counts them."""
    budget = profile.budget
    costs = profile.costs
    bsup = _bounds.BoundSupport.of(profile, support)
    mult = list(costs) if utility == "cost" else [1] * profile.m
    st = stats if stats is not None else {}
    st.update(runs=0, anchors=0, certify_ok=0, certify_failed=0, continued=0, lengths=[],
              exact_runs=0)
    n_free = len(free)
    alive_set = set(alive)

    def exact(t):
        st["exact_runs"] += 1
        run = _Run(profile, support, utility, tie, t, track=False)
        return run, run.run(free, alive)

    def plan_of(run):
        if isinstance(run, _Run):
            return [(c, run.rounds[c]["r"] / run.mult[c]) for c in run.order[n_free:]]
        return run.plan(n_free)

    previous_order, previous_run = list(free), None
    length = 1
    pending = None
    k = 0
    while True:
        t = base + k
        st["anchors"] += 1
        if pending is not None:
            run, order, pending = pending[0], pending[1], None
        else:
            st["runs"] += 1
            run = _bounds._BoundRun(profile, bsup, mult, tie, t)
            order = run.run(free, alive)
            if order is None:
                run, order = exact(t)
        spent = sum(costs[c] for c in order)
        if spent > budget:
            return previous_order, previous_run, st["runs"], k + 1, (t - 1 if previous_run else None)
        chosen = set(order)
        if all(spent + costs[c] > budget for c in alive_set - chosen):
            return order, run, st["runs"], k + 1, t
        previous_order, previous_run = order, run
        last = k
        if gallop:
            plan = plan_of(run)
            step = length
            while True:
                probe = _bounds._BoundRun(profile, bsup, mult, tie, t + step)
                st["runs"] += 1
                if probe.certify(free, alive, plan) > len(plan):
                    st["certify_ok"] += 1
                    last = k + step
                    step *= 2
                    continue
                st["certify_failed"] += 1
                if k + step == last + 1:
                    nxt = probe.run()
                    pending = (probe, nxt) if nxt is not None else exact(t + step)
                    st["continued"] += 1
                break
            length = max(1, (last - k + 1) // 2)
        st["lengths"].append(last - k + 1)
        k = last + 1


def _add1_blocks(profile, support, utility, tie, free, alive, base, stats=None, first=8):
    """:func:`_add1` by descending blocks of shares (method ``bounds+blocks``).

    For the block ``k..T`` (``T = k + s - 1``): one run at ``T``, then one at
    ``k`` that *borrows* from it (:class:`.mes_bounds._BoundRun`): after the
    same winners, every project's ``rho`` at ``k`` is at least its ``rho`` at
    ``T`` (monotonicity), so the lower bounds recorded there are lower bounds
    here and what was unaffordable there is unaffordable here. If the run at
    ``k`` follows the same rounds and its winners beat those bounds, the
    outcome is certified on all of ``k..T`` (two runs for ``s`` steps; ``s``
    then doubles). Otherwise the shares ``T-1, ..., k+1`` are run downwards,
    each borrowing from the one just above (the tightest bounds), and ``s``
    halves (not below ``first``). The outcomes are then read in increasing
    order of share, as the definition does: the first over budget or
    exhaustive ends the loop (runs above it were spent for nothing, at most
    one block). A run the bounds cannot decide is redone exactly."""
    budget = profile.budget
    costs = profile.costs
    bsup = _bounds.BoundSupport.of(profile, support)
    mult = list(costs) if utility == "cost" else [1] * profile.m
    st = stats if stats is not None else {}
    st.update(runs=0, anchors=0, certify_ok=0, certify_failed=0, continued=0, lengths=[],
              exact_runs=0)
    alive_set = set(alive)
    n = profile.n_voters

    def one(k, D, above=None):
        st["runs"] += 1
        run = _bounds._BoundRun(profile, bsup, mult, tie, base + k, D=D,
                                borrow=above if isinstance(above, _bounds._BoundRun) else None)
        order = run.run(free, alive)
        if order is None:
            st["exact_runs"] += 1
            run = _Run(profile, support, utility, tie, base + k, track=False)
            order = run.run(free, alive)
        return run, order

    previous_order, previous_run = list(free), None
    s = first
    k = 0
    while True:
        top = k + s - 1
        D = _bounds.scale(n, base + top)
        outcomes = {}
        outcomes[top] = one(top, D)
        st["anchors"] += 1
        if top > k:
            outcomes[k] = low = one(k, D, outcomes[top][0])
            if getattr(low[0], "certified", False):
                st["certify_ok"] += 1
                for j in range(k + 1, top):
                    outcomes[j] = low
                s *= 2
            else:
                st["certify_failed"] += 1
                for j in range(top - 1, k, -1):
                    outcomes[j] = one(j, D, outcomes[j + 1][0])
                s = max(first, s // 2)
        for j in range(k, top + 1):
            run, order = outcomes[j]
            spent = sum(costs[c] for c in order)
            if spent > budget:
                return (previous_order, previous_run, st["runs"], j + 1,
                        (base + j - 1 if previous_run else None))
            chosen = set(order)
            if all(spent + costs[c] > budget for c in alive_set - chosen):
                return order, run, st["runs"], j + 1, base + j
            previous_order, previous_run = order, run
        st["lengths"].append(top - k + 1)
        k = top + 1


def _add1_auto(profile, support, utility, tie, free, alive, base, stats=None, block=8):
    """:func:`_add1` switching between the two bounds methods (``bounds+auto``,
    the default): ``bounds+interval`` (galloping certificates upwards) while
    outcomes last several unit steps, ``bounds+blocks`` (descending blocks that
    borrow bounds) where they change at almost every step. The switch follows
    a running mean of the steps settled per anchor (below 1.5: blocks); a
    block whose outcome is certified switches back. Every outcome is still
    read in increasing order of share, so the stop is the definition's."""
    budget = profile.budget
    costs = profile.costs
    bsup = _bounds.BoundSupport.of(profile, support)
    mult = list(costs) if utility == "cost" else [1] * profile.m
    st = stats if stats is not None else {}
    st.update(runs=0, anchors=0, certify_ok=0, certify_failed=0, continued=0, lengths=[],
              exact_runs=0, blocks=0, kernel_runs=0, kernel_undecided=0)
    alive_set = set(alive)
    n = profile.n_voters
    n_free = len(free)
    kern = _bounds.Kernel.of(profile, bsup, mult, tie) if KERNEL else None

    def new_run(k, D=None, above=None):
        """A bound run at ``base + k``: in C when the kernel is built, else numpy."""
        if kern is not None:
            st["kernel_runs"] += 1
            return _bounds.KernelRun(kern, base + k, D=D, borrow=above, record=D is not None)
        return _bounds._BoundRun(profile, bsup, mult, tie, base + k, D=D,
                                 borrow=above if isinstance(above, _bounds._BoundRun) else None)

    def fallback(k):
        """The share ``base + k`` when the kernel's bounds could not decide: the numpy
        bounds (if the kernel was used), else the exact run."""
        if kern is not None:
            st["kernel_undecided"] += 1
            run = _bounds._BoundRun(profile, bsup, mult, tie, base + k)
            order = run.run(free, alive)
            if order is not None:
                return run, order
        st["exact_runs"] += 1
        run = _Run(profile, support, utility, tie, base + k, track=False)
        return run, run.run(free, alive)

    def bound_run(k, D=None, above=None):
        st["runs"] += 1
        run = new_run(k, D, above)
        order = run.run(free, alive)
        return (run, order) if order is not None else fallback(k)

    def stops(j, run, order):
        """The loop's result if it ends at step ``j``, else ``None`` (and ``j`` is the previous)."""
        nonlocal previous_order, previous_run
        spent = sum(costs[c] for c in order)
        if spent > budget:
            return (previous_order, previous_run, st["runs"], j + 1,
                    (base + j - 1 if previous_run else None))
        if all(spent + costs[c] > budget for c in alive_set - set(order)):
            return order, run, st["runs"], j + 1, base + j
        previous_order, previous_run = order, run
        return None

    previous_order, previous_run = list(free), None
    k, length, pending, mean, s = 0, 1, None, 2.0, block
    while True:
        if mean >= 1.5:  # interval certificates, upwards
            st["anchors"] += 1
            run, order = pending if pending is not None else bound_run(k)
            pending = None
            end = stops(k, run, order)
            if end is not None:
                return end
            if isinstance(run, _Run):
                plan = [(c, run.rounds[c]["r"] / run.mult[c]) for c in run.order[n_free:]]
            else:
                plan = run.plan(n_free)
            last, step = k, length
            while True:
                probe = new_run(k + step)
                st["runs"] += 1
                if probe.certify(free, alive, plan, finish=k + step == last + 1) > len(plan):
                    st["certify_ok"] += 1
                    last = k + step
                    step *= 2
                    continue
                st["certify_failed"] += 1
                if k + step == last + 1:
                    nxt = probe.run()
                    pending = (probe, nxt) if nxt is not None else fallback(k + step)
                    st["continued"] += 1
                break
            settled = last - k + 1
            length = max(1, settled // 2)
            mean = 0.7 * mean + 0.3 * settled
            st["lengths"].append(settled)
            k = last + 1
            if mean < 1.5 and pending is not None:
                end = stops(k, *pending)  # not wasted: the first step of the blocks
                if end is not None:
                    return end
                pending = None
                k += 1
            continue
        # descending blocks, borrowing bounds from the run above
        st["anchors"] += 1
        st["blocks"] += 1
        top = k + s - 1
        D = _bounds.scale(n, base + top)
        outcomes = {top: bound_run(top, D)}
        outcomes[k] = low = bound_run(k, D, outcomes[top][0])
        if getattr(low[0], "certified", False):
            st["certify_ok"] += 1
            for j in range(k + 1, top):
                outcomes[j] = low
            mean, length = 2.0, max(1, s // 2)  # outcomes last again: back to intervals
        else:
            st["certify_failed"] += 1
            for j in range(top - 1, k, -1):
                outcomes[j] = bound_run(j, D, outcomes[j + 1][0])
        for j in range(k, top + 1):
            end = stops(j, *outcomes[j])
            if end is not None:
                return end
        st["lengths"].append(top - k + 1)
        k = top + 1


def _explain(profile: Profile, params: Params, order: list[int], run, free) -> RuleResult:
    details, reasons = {}, {}
    chosen = set(order)
    costs = profile.costs
    per_unit = " per point" if params.utility == "points" else ""
    rounds = run.rounds if run is not None else {}
    left = {}
    if run is not None:  # what the supporters of every project not funded still hold
        left = run.money_left_all([c for c in range(profile.m) if c not in free and c not in rounds
                                   and profile.approvals[c]])
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
                          f"{profile.money(costs[c])} with at most {profile.money(rd['r'])} each{per_unit} "
                          f"(effective votes {float(eff):,.1f}).")
            continue
        can_pay = None
        if run is not None and profile.approvals[c]:
            can_pay = left[c]
        if can_pay is None:
            details[c] = {"supporters_can_pay": 0, "cost": costs[c]}
            reasons[c] = "Not funded: nobody voted for it." if profile.approvals[c] == 0 else \
                "Not funded."
            continue
        details[c] = {"supporters_can_pay": _num(can_pay), "cost": costs[c]}
        if c in chosen:
            continue
        # MES ends only when no project is affordable (checked exactly in the run)
        reasons[c] = (f"Not funded: its supporters had only {profile.money(can_pay)} left of their "
                      f"shares, less than its cost {profile.money(costs[c])}.")
    return RuleResult(list(order), details, reasons)
