"""Ways of computing MES + add1 that production does not use, kept as oracles.

``add1(setup, method)`` computes the add1 outcome by any of :data:`METHODS`;
the tests check that they all give the outcome of ``unit`` (the definition:
one exact MES run per unit of share). Production (:mod:`pbvote.tally.mes.add1`)
is ``interval`` on exact runs, ``bounds+auto`` on bound runs:

* ``unit`` / ``bounds`` - one run per unit step, exact or on numpy bounds;
* ``interval`` / ``bounds+interval`` - the production search without its
  descending blocks (interval certificates only);
* ``bounds+blocks`` - descending blocks only, their size doubling while
  blocks are certified and halving (not below 8) when not;
* ``bounds+auto`` - the production search (``engine`` as in ``run_rule``);
* ``jump`` - *affine change points*: within one run every amount of money is
  an affine function ``a*t + b`` of the share as long as the run's course
  does not change (who pays in full for each funded project, which project
  wins each round, which drop out). A run at ``t0`` carries each amount's
  slope and, for every decision it takes on the sign of some affine
  ``d(t)``, where ``d`` changes sign; below the nearest such point the
  outcome is the same. For projects not funded in a round the affine
  ``rho`` of their current split is a lower bound of their true ``rho``, so
  only the winner's split must stay fixed. Each run snapshots its state
  after every round with the point up to which it stays valid, and the next
  run resumes from the deepest valid snapshot. (On big elections some class
  crosses a payment boundary at almost every unit step, so it rarely jumps
  far there, and tracking slopes makes each run slower: not in production.)
* ``jump+interval`` - both: the jump's own extent is where the certificates
  start.
"""

from __future__ import annotations

from collections import Counter, deque
from math import ceil
from operator import itemgetter

from pbvote.tally.mes import add1 as _add1
from pbvote.tally.mes import engine_for
from pbvote.tally.mes.support import Setup
from pbvote.tally.profile import Q

METHODS = ("unit", "jump", "interval", "jump+interval", "bounds", "bounds+interval",
           "bounds+blocks", "bounds+auto")

_VOTERS = itemgetter(3)


def add1(setup: Setup, method: str, stats: dict | None = None, engine: str = "auto"):
    """``(order, run, steps, final share)`` of the add1 loop by ``method``."""
    st = _add1.new_stats()
    if method.startswith("bounds") and (setup.support.points or _add1.BoundRun is None):
        method = "unit" if method == "bounds" else "interval"  # bounds need equal utilities
    if method == "unit":
        end = _unit(_add1.ExactRuns(setup, st))
    elif method == "bounds":
        end = _unit(_add1.BoundRuns(setup, st))
    elif method == "interval":
        end = _add1.settle(_add1.ExactRuns(setup, st))
    elif method == "bounds+interval":
        runs = _add1.BoundRuns(setup, st)
        runs.borrows = False  # no blocks: certificates only
        end = _add1.settle(runs)
    elif method == "bounds+blocks":
        end = _blocks(_add1.BoundRuns(setup, st))
    elif method == "bounds+auto":
        end = _add1.settle(engine_for(setup, engine, st))
    elif method in ("jump", "jump+interval"):
        end = _jump(setup, st, gallop=method == "jump+interval")
    else:
        raise ValueError(method)
    if stats is not None:
        stats.update(st)
    return end.order, end.run, end.steps, end.t


def _stops(setup, j, run, order, previous):
    """:func:`pbvote.tally.mes.add1.settle`'s stop at share ``base + j``."""
    over, exhaustive = setup.outcome(order)
    if over:
        return _add1.Settled(previous[0], previous[1],
                             setup.base + j - 1 if previous[1] else None, j + 1)
    if exhaustive:
        return _add1.Settled(order, run, setup.base + j, j + 1)
    previous[:] = [order, run]
    return None


def _unit(runs):
    """One run per unit step: the definition."""
    setup, st = runs.setup, runs.stats
    previous = [list(setup.free), None]
    k = 0
    while True:
        st["anchors"] += 1
        end = _stops(setup, k, *runs.run_at(setup.base + k), previous)
        if end is not None:
            return end
        st["lengths"].append(1)
        k += 1


def _blocks(runs, first=8):
    """Descending blocks (:mod:`pbvote.tally.mes.add1`) of ``s`` shares, ``s``
    doubling after a certified block and halving (not below ``first``) after
    one that was not. Outcomes are read in increasing order of share."""
    setup, st = runs.setup, runs.stats
    previous = [list(setup.free), None]
    s, k = first, 0
    while True:
        top = k + s - 1
        D = _add1.scale(setup.profile.n_voters, setup.base + top)
        outcomes = {top: runs.run_at(setup.base + top, D)}
        st["anchors"] += 1
        if top > k:
            outcomes[k] = low = runs.run_at(setup.base + k, D, outcomes[top][0])
            if getattr(low[0], "certified", False):
                st["certify_ok"] += 1
                for j in range(k + 1, top):
                    outcomes[j] = low
                s *= 2
            else:
                st["certify_failed"] += 1
                for j in range(top - 1, k, -1):
                    outcomes[j] = runs.run_at(setup.base + j, D, outcomes[j + 1][0])
                s = max(first, s // 2)
        for j in range(k, top + 1):
            end = _stops(setup, j, *outcomes[j], previous)
            if end is not None:
                return end
        st["lengths"].append(top - k + 1)
        k = top + 1


def _next_t(t, k: int, change) -> int | None:
    """The next k to try: the first grid point at or after ``change``."""
    if change is None:
        return None
    return k + max(1, int(ceil(change - t)))


def _jump(setup: Setup, st: dict, gallop: bool):
    """Affine change points (``jump``), and then certificates (``jump+interval``)."""
    runs = _add1.ExactRuns(setup, st)
    free, alive, base, n_free = setup.free, setup.alive, setup.base, len(setup.free)
    previous = [list(free), None]
    snapshots: list[tuple] = []
    length, pending, k = 1, None, 0
    while True:
        t = base + k
        st["anchors"] += 1
        if pending is not None:
            (run, order), pending = pending, None
            tracked = False
        else:
            tracked = True
            run = TrackedRun(setup, t)
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
            run.snapshots = snapshots[:depth] + run.snapshots
            snapshots = run.snapshots
        end = _stops(setup, k, run, order, previous)
        if end is not None:
            return end
        last = k  # every k' in [k, last] gives this outcome
        if tracked:
            nxt = _next_t(t, k, run.next_change)
            if nxt is None:  # no decision depends on t any more
                return _add1.Settled(order, run, t, k + 1)
            last = nxt - 1
        if gallop:
            last, pending = _add1.gallop(runs, run.plan(n_free), k, last, max(length, last - k + 1))
            length = max(1, (last - k + 1) // 2)
        st["lengths"].append(last - k + 1)
        k = last + 1


class TrackedRun:
    """One exact MES run at per-voter share ``t`` that tracks where it changes
    (the ``jump`` method: the affine change points of the module docstring).

    Voters with exactly the same money form one class: ``money[i]`` is
    ``(amount, slope)`` of class ``i`` (``slope`` is the derivative in ``t``,
    tracked for add1, else 0) and ``cls[g]`` the class of group ``g``.
    Class ``ZERO`` holds those who spent everything; they are skipped, as
    they can pay nothing more.
    """

    ZERO = 0

    def __init__(self, setup: Setup, t, track: bool = True):
        self.p = setup.profile
        self.sup = setup.support
        self.tie = setup.tie
        self.t = t
        self.track = track
        self.next_change = None  # smallest t' >= t where a decision may flip
        self.mult = setup.mult
        start = (Q(t), Q(1) if track else 0)
        self.money = [(Q(0), 0), start]
        self.index = {(0, 0): 0, start: 1}
        self.cls = [1] * self.sup.n_groups
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

    def plan(self, n_free: int) -> list[tuple[int, object]]:
        return [(c, self.rounds[c]["r"] / self.mult[c]) for c in self.order[n_free:]]
