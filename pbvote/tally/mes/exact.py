"""MES on exact rationals: one run at a per-voter share ``t`` (:class:`Run`).

This is the definition, computed exactly; the other engines (:mod:`.bounds`,
:mod:`.kernel`) take the same decisions faster and hand back to this one
whatever they cannot decide.

**The rule.** Every voter gets an equal share ``t`` of the budget. Round
after round, for each project we find the smallest ``rho`` such that its
supporters, each paying ``min(own money left, rho x utility)``, together
cover its cost; the project with the smallest ``rho`` (its voters pay the
least per unit of utility) is funded and its supporters pay. Projects whose
supporters no longer have enough money together drop out. The run ends when
no project can be paid for. Ties in ``rho`` go to the project first in the
tie-break order.

**Exactness.** Money is in the smallest currency unit; shares and payments
are exact rationals (``gmpy2.mpq`` when installed, else
``fractions.Fraction``), so every comparison of ``rho`` values - which
decides the outcome - is exact.

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

:meth:`Run.certify` is the monotonicity certificate the add1 search
(:mod:`.add1`) is built on; its docstring holds the proof.
"""

from __future__ import annotations

from collections import Counter, deque
from math import lcm
from operator import itemgetter, mul

from ..profile import Q
from .support import Setup

_VOTERS = itemgetter(2)


class Run:
    """One MES run at per-voter share ``t``.

    Voters with exactly the same money form one class: ``money[i]`` is the
    amount of class ``i`` and ``cls[g]`` the class of group ``g``. Class 0
    holds those who spent everything; they are skipped, as they can pay
    nothing more. After :meth:`run`, ``order`` lists the funded projects and
    ``rounds[c]`` the round and the exact payment per unit of utility ``r``
    of each funded project (``rho = r / mult[c]``).
    """

    def __init__(self, setup: Setup, t):
        self.p = setup.profile
        self.sup = setup.support
        self.tie = setup.tie
        self.mult = setup.mult
        self.t = t
        self.money = [Q(0), Q(t)]
        self.index = {0: 0, self.money[1]: 1}
        self.cls = [1] * self.sup.n_groups
        self.order: list[int] = []
        self.stale: dict = {}
        self.remaining: set[int] = set()
        self.rounds: dict[int, dict] = {}

    # -- one project --------------------------------------------------------
    def entries(self, c: int) -> list:
        """``(money, utility, voters)`` per class among ``c``'s supporters."""
        out = []
        cls, money = self.cls, self.money
        for u, _, heavy, classes_of in self.sup.parts[c]:
            count = Counter(classes_of(cls))
            for g, w in heavy:
                count[cls[g]] += w
            count.pop(0, None)  # nothing left to pay with
            out += [(m, u, w) for m, w in zip(map(money.__getitem__, count), count.values())]
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
            total += sum(money[i] * w for i, w in count.items())
        return total

    def money_left_all(self, projects) -> dict:
        """:meth:`money_left` for several projects, exact and summed at C speed.

        Every class's money is written over one common denominator (the
        least common multiple of theirs, a few hundred bits on the shared
        files), so each project's total is one integer dot product; above
        ``2**4096`` it falls back to summing the rationals.
        """
        amounts = self.money
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
        """``rho`` of project ``c`` (``r / mult``), or ``None`` if unaffordable.

        Solves ``sum(min(money, r * u) * voters) = cost`` by the poor/rich
        split: start with ``r = cost / total utility``; whoever cannot pay
        ``r * u`` pays all her money and ``r`` is recomputed for the rest,
        until nobody else is short. ``r`` only grows, so this ends with the
        exact solution after a few linear passes.
        """
        cost = self.p.costs[c]
        rich = entries
        uniform = not self.sup.points
        denom = sum(map(_VOTERS, entries)) if uniform else sum(u * w for _, u, w in entries)
        paid = 0
        while True:
            if not denom:  # everyone pays all they have and it is not enough
                return None
            r = Q(cost - paid) / denom
            if uniform:
                poor = [e for e in rich if e[0] < r]
                if not poor:
                    break
                rich = [e for e in rich if not e[0] < r]
            else:
                poor = [e for e in rich if e[0] < r * e[1]]
                if not poor:
                    break
                rich = [e for e in rich if not e[0] < r * e[1]]
            for b, u, w in poor:
                paid += b * w
                denom -= u * w
        m = self.mult[c]
        return r / m if m != 1 else r

    # -- the whole run ------------------------------------------------------
    def start(self, start_order: list[int], alive: list[int]) -> None:
        costs = self.p.costs
        self.order = list(start_order)
        # first lower bounds: cost / total utility (as if money were unlimited)
        self.stale = {c: Q(costs[c]) / self.sup.total_utility[c] / self.mult[c] for c in alive}
        self.remaining = set(alive)

    def run(self, start_order: list[int] | None = None, alive: list[int] | None = None) -> list[int]:
        """Run MES and return the funded order (``start_order`` first, then the
        rounds among ``alive``); without arguments, finish a run that
        :meth:`certify` stopped."""
        if start_order is not None:
            self.start(start_order, alive)
        tie = self.tie
        stale, remaining, rounds, order = self.stale, self.remaining, self.rounds, self.order
        while remaining:
            cand = sorted(remaining, key=lambda c: (stale[c], tie[c]))
            best = None
            best_rho = None
            for c in cand:
                if best is not None and stale[c] > best_rho:
                    break
                res = self.rho(c, self.entries(c))
                if res is None:
                    remaining.discard(c)
                    continue
                stale[c] = res
                if best is None or res < best_rho or (res == best_rho and tie[c] < tie[best]):
                    best, best_rho = c, res
            if best is None:
                break
            r = best_rho * self.mult[best]
            self.pay(best, r)
            rounds[best] = {"round": len(rounds) + 1, "r": r}
            order.append(best)
            remaining.discard(best)
        return order

    def plan(self, n_free: int) -> list[tuple[int, object]]:
        """``(winner, its exact rho)`` per round, for :meth:`certify` at a larger share."""
        return [(c, self.rounds[c]["r"] / self.mult[c]) for c in self.order[n_free:]]

    def certify(self, start_order: list[int], alive: list[int], plan: list[tuple[int, object]],
                finish: bool = False) -> int:
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

        After a return below ``len(plan)`` the state is that of an exact
        run at this share after that many rounds (each paid at this share's
        own price), so :meth:`run` without arguments finishes it; ``finish``
        is accepted for the engines' common interface (the C kernel must
        know it in advance).
        """
        self.start(start_order, alive)
        tie = self.tie
        stale, remaining, rounds, order = self.stale, self.remaining, self.rounds, self.order
        for depth, (q, theta) in enumerate(plan):
            key_q = (theta, tie[q])
            cand = sorted(remaining, key=lambda c: (stale[c], tie[c]))
            for c in cand:
                if c == q:
                    continue
                if (stale[c], tie[c]) > key_q:
                    break  # this bound and all later ones already lose to q
                res = self.rho(c, self.entries(c))
                if res is None:
                    remaining.discard(c)
                    continue
                stale[c] = res
                if (res, tie[c]) < key_q:
                    return depth  # p may win round depth + 1 somewhere in the interval
            res = self.rho(q, self.entries(q))
            if res is None or q not in remaining:  # pragma: no cover - impossible by monotonicity
                raise AssertionError("certified winner unaffordable at the larger share")
            r = res * self.mult[q]
            self.pay(q, r)
            rounds[q] = {"round": len(rounds) + 1, "r": r}
            order.append(q)
            remaining.discard(q)
        costs = self.p.costs
        for c in sorted(remaining, key=tie.__getitem__):
            if self.money_left(c) >= costs[c]:
                return len(plan)  # might be funded after the last round somewhere
        return len(plan) + 1

    def pay(self, f: int, r) -> None:
        """Supporters of ``f`` pay ``min(money, r * utility)``."""
        cls, money, index = self.cls, self.money, self.index
        for u, light, heavy, classes_of in self.sup.parts[f]:
            pay = r * u
            olds = classes_of(cls)
            moved = {}
            for i in set(olds).union(cls[g] for g, _ in heavy):
                b = money[i]
                if b <= pay:
                    moved[i] = 0  # spent everything, for good
                    continue
                key = b - pay
                j = index.get(key)
                if j is None:
                    j = index[key] = len(money)
                    money.append(key)
                moved[i] = j
            # cls[g] = moved[cls[g]] for every g in light, looped at C speed
            deque(map(cls.__setitem__, light, map(moved.__getitem__, olds)), maxlen=0)
            for g, _ in heavy:
                cls[g] = moved[cls[g]]
