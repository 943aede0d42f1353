"""MES decided with exact integer bounds (numpy): one run at a share, faster than :mod:`.exact`.

A run of the Method of Equal Shares at share ``t`` is computed here on
*integer intervals* instead of exact rationals. Money is counted in units of
``1/D`` of the smallest currency unit (``D`` a power of two, times the
denominator of ``t`` when that fits, chosen so that every sum stays below
``2**62``). Every group of identical ballots holds two ``int64`` amounts
``lo <= D * money <= hi``, where ``money`` is its exact money in the exact
run. At the start ``lo = floor(D t)``, ``hi = ceil(D t)`` (equal when ``D t``
is an integer).

**Why the bounds hold, round after round.** For a project with cost ``C``
and supporters of money ``B_g`` (weights ``w_g``), the payment per
supporter is the least root ``p*`` of ``P(p) = sum w_g min(B_g, p) = C``
(utilities are uniform: ``cost`` or ``approvals``; ``rho = p / mult``).
``P`` is non-decreasing in every ``B_g``, so ``P_lo <= D P <= P_hi``
pointwise (``P_lo``, ``P_hi`` the same sums over ``lo``, ``hi``) and
``root(P_hi) <= D p* <= root(P_lo)``.

* *Lower bound* (:meth:`BoundRun.lower`). For any set ``S`` of supporters,
  ``L_S(p) = sum_S w hi + p * sum_(not S) w >= P_hi(p)`` (``min(b, p)`` is at
  most ``b`` and at most ``p``), so the root of ``L_S`` is at most
  ``root(P_hi)``; its floor is an integer lower bound of ``D p*``. The
  poor/rich iteration starts from a known lower bound ``p0`` (the last one:
  money only decreases), puts whoever holds less than the current bound in
  ``S`` (they hold less than ``D p*``), recomputes, keeps the larger of the
  two bounds, and stops when the bound no longer grows. If even
  ``sum w hi < D C``, the project is unaffordable for certain (and stays
  so). Supporters with ``hi = 0`` (spent out, for good) are dropped from a
  run's supporter arrays once they are a quarter of them.
* *Upper bound* (:meth:`BoundRun.upper`), for the round's winner only: the
  same iteration on ``lo`` with the root rounded *up*. Voters it marks poor
  have ``lo < p`` for an integer ``lo`` and ``p = ceil(r)``, hence
  ``lo < r``: they are poor at the real root too, so the iteration is the
  exact one for ``P_lo`` and ends at ``p = ceil(root(P_lo))`` with
  ``P_lo(p) >= D C``: ``D p* <= p``. If ``sum w lo < D C`` the winner may be
  unaffordable: undecided.
* *The winner.* ``q`` wins round ``r`` for certain when, for every other
  project ``d`` still in the race, ``upper_q / mult_q < lower_d / mult_d``,
  or the two are equal and ``q`` comes first in the tie-break order (then
  ``rho_q <= rho_d``, and on equality the tie-break picks ``q``: the rule
  of the exact loop). Lower bounds from earlier rounds stay lower bounds
  (money only decreases), so projects are evaluated lazily as in
  :mod:`.exact`. The comparisons are between exact rationals.
* *Payment.* The winner's supporters pay ``min(B_g, p*)`` with
  ``L <= D p* <= U``: new ``lo = max(0, lo - U)``, new ``hi = max(0, hi - L)``
  (``max(0, b - p)`` is increasing in ``b`` and decreasing in ``p``), so the
  invariant ``lo <= D money <= hi`` is kept. Voters with ``hi < L`` paid all
  they had: both bounds become 0, exactly.
* *The end.* The run ends when every remaining project is unaffordable for
  certain (``sum w hi < D C``).

**Overflow.** ``D`` is chosen (:func:`scale`) so that ``2 n (t + 1) D <=
2**61``: every amount is at most ``D t + 1``, every weighted sum at most
``n (D t + 1) < 2**61``, within ``int64``. Costs times ``D`` and all
quotients are Python integers; numpy only compares, gathers and sums.

**Exact ties** (two projects with the same ``rho``: common with round costs,
e.g. supporters who still hold money all rich and as many of them) cannot be
told apart by bounds. :meth:`BoundRun.exact` then computes ``rho`` exactly
when every supporter whose money is not known exactly is rich for certain;
the spent-out hold exactly 0 and the others with ``lo == hi`` exactly
``lo / D``; the round's winner is the smallest exact ``(rho, tie-break)``
among the close ones (:meth:`BoundRun.decide`).

**Explanations** (:meth:`BoundRun.exact_payment`): a group that still holds
money has never been poor, so it holds exactly ``t`` minus the exact
payments of the funded projects on its ballot; when every supporter of a
winner is poor or rich for certain, its exact payment follows with exact
rationals over a handful of terms, and so does the money left to each
losing project's supporters. Otherwise the explanation comes from the
exact rational run (:mod:`.exact`).

**Borrowing** (:meth:`BoundRun.run` with ``borrow``): a run at ``t`` may use
the lower bounds and the unaffordable projects recorded by a run at a larger
share ``t'`` as long as both have funded the same projects in the same
rounds (money at ``t`` is then at most money at ``t'``, voter by voter, so
every ``rho`` at ``t`` is at least the one at ``t'``; the fact is proved in
:meth:`.exact.Run.certify`). When, in addition, each winner at ``t`` beats
the bounds recorded at ``t'``, the outcome is the same at every share of
``[t, t']`` (``certified``).

Whenever a decision cannot be taken (a tie the exact step cannot settle, a
project affordable exactly at the boundary, bounds too wide), the run
returns ``None`` and the caller runs the exact rational MES of :mod:`.exact`
at that share. So an outcome returned here is *the* exact MES outcome:
every decision taken was implied by the bounds, or decided exactly. The
bounds start one unit of ``1/D`` apart and widen by each winner's payment
bounds; with ``D`` about ``2**30``-``2**35`` on the shared files they stay
far below the gaps between competing projects: none of the 19 files needed
an exact fallback run in its add1 loop (``stats["exact_runs"]``).

**In C**: :mod:`.kernel` runs the same runs (``run``, ``certify``,
borrowing) with the same bounds, decisions and exact steps in the optional
C extension; whatever it cannot decide is redone here.
"""

from __future__ import annotations

import numpy as np

from ..profile import Q
from .support import Setup

_LIMIT = 1 << 61  # every sum of money (in 1/D units) stays below this


def scale(n: int, t) -> int:
    """``D`` for shares up to ``t``: the denominator of ``t`` times a power of two
    if that leaves room (then ``D t`` is an integer), else a power of two."""
    t = Q(t)
    num, den = int(t.numerator), int(t.denominator)
    budget_room = _LIMIT // max(1, 2 * n * (num // den + 1))
    if not budget_room:
        return 0  # amounts beyond int64 even at D = 1: no bounds run (see BoundRun)
    base = den if den <= budget_room else 1
    return base << max(0, (budget_room // base).bit_length() - 1)


class BoundSupport:
    """Per project: its supporting groups (``intp``) and weights (``int64``, or ``None`` if all 1)."""

    def __init__(self, profile, support):
        self.n_groups = support.n_groups
        self.sup = []
        self.wt = []
        self.total = []
        for c in range(profile.m):
            light = [g for _, lt, _, _ in support.parts[c] for g in lt]
            heavy = [gw for _, _, hv, _ in support.parts[c] for gw in hv]
            groups = np.array(light + [g for g, _ in heavy], dtype=np.intp)
            self.sup.append(groups)
            if heavy:
                w = np.ones(len(groups), dtype=np.int64)
                w[len(light):] = [w for _, w in heavy]
                self.wt.append(w)
            else:
                self.wt.append(None)
            self.total.append(len(light) + sum(w for _, w in heavy))

    @classmethod
    def of(cls, profile, support) -> "BoundSupport":
        """Built once per election (cached on the profile; uniform utilities only)."""
        key = "mes-bound-support"
        if key not in profile.cache:
            profile.cache[key] = cls(profile, support)
        return profile.cache[key]


class BoundRun:
    """One MES run at share ``t`` on integer bounds; ``run`` returns the order or ``None``."""

    def __init__(self, setup: Setup, t, exact_rounds: bool = False, D: int | None = None,
                 borrow=None):
        profile = setup.profile
        bsup = BoundSupport.of(profile, setup.support)
        mult, tie = setup.mult, setup.tie
        self.exact_rounds = exact_rounds  # also compute each payment exactly (explanations)
        self.pstar: dict[int, object] = {}  # winner -> exact payment per supporter
        self.funded = None  # see note_funded
        if exact_rounds and profile.n_voters >= 1 << 24:  # pragma: no cover - float32 counts
            self.exact_rounds = False
        self.p = profile
        self.b = bsup
        self.mult = mult
        self.tie = tie
        t = Q(t)
        n = profile.n_voters
        num, den = int(t.numerator), int(t.denominator)
        self.D = D = D if D is not None else scale(n, t)
        self.usable = D > 0  # else every run is left to the exact run
        if not self.usable:
            self.D = D = 1
            num = 0
        lo = (num * D) // den
        hi = lo if (num * D) % den == 0 else lo + 1
        self.lo = np.full(bsup.n_groups, lo, dtype=np.int64)
        self.hi = np.full(bsup.n_groups, hi, dtype=np.int64) if hi != lo else self.lo.copy()
        self.sup = list(bsup.sup)  # per run: the spent-out are dropped as they grow
        self.wt = list(bsup.wt)
        self.dead = [0] * profile.m
        self.order: list[int] = []
        self.rounds: dict[int, tuple] = {}  # winner -> (L, U, exact or None) for D * payment
        self.evals = 0
        self.t = t
        # borrow: the rounds of a run at a larger share with the same D (see run)
        self.borrow = borrow.record if borrow is not None and borrow.D == D else None
        self.record: list[tuple] = []  # per round: (winner, lower bounds, floats, in the race)
        self.certified = False  # every share between this one and the borrowed one: same outcome

    # -- one project ----------------------------------------------------------
    def gather(self, c: int, which):
        """``(x, xw, w, dead, n)``: the money bounds ``which[g]`` of ``c``'s supporters
        still holding money, the same times weight, their weights (``None``:
        all 1), the weight of the spent-out ones and of all."""
        sup, wt = self.sup[c], self.wt[c]
        x = which[sup]
        if which is self.hi:  # drop the spent-out (hi = 0, for good) once they are many
            nz = int(np.count_nonzero(x))
            if 4 * nz < 3 * len(x):
                keep = x != 0
                self.dead[c] += len(x) - nz if wt is None else int(wt[~keep].sum())
                sup = self.sup[c] = sup[keep]
                x = x[keep]
                if wt is not None:
                    wt = self.wt[c] = wt[keep]
        return x, (x if wt is None else x * wt), wt, self.dead[c], self.b.total[c]

    def lower(self, c: int, p0: int = 0):
        """Integer lower bound of ``D p*`` for ``c``, or ``None`` if unaffordable for certain.

        ``p0``: a known lower bound (the last one: money only decreases), a
        warm start; the spent-out supporters are poor from the start."""
        self.evals += 1
        x, xw, wt, k, n = self.gather(c, self.hi)
        cost = self.p.costs[c] * self.D
        if int(xw.sum()) < cost:
            return None
        p = max(p0, cost // (n - k))
        while True:
            mask = (x < p).view(np.uint8)  # (a dot product sums at C speed)
            kk = k + (int(np.count_nonzero(mask)) if wt is None else int(np.dot(wt, mask)))
            q = (cost - int(np.dot(xw, mask))) // (n - kk)
            if q <= p:
                return p
            p = q

    def upper(self, c: int, p0: int = 0):
        """Integer upper bound of ``D p*`` for ``c``, or ``None`` if it may be unaffordable.

        ``p0 <= D p*`` (the lower bound) is a warm start: voters with ``lo < p0``
        are poor at the root of ``P_lo`` too. At the end ``P_lo(p) >= D C``."""
        self.evals += 1
        x, xw, wt, k, n = self.gather(c, self.lo)
        cost = self.p.costs[c] * self.D
        if int(xw.sum()) < cost:
            return None
        p = max(p0, -((-cost) // (n - k)))
        while True:
            mask = (x < p).view(np.uint8)
            kk = k + (int(np.count_nonzero(mask)) if wt is None else int(np.dot(wt, mask)))
            q = -((int(np.dot(xw, mask)) - cost) // (n - kk))
            if q <= p:
                return p
            p = q

    def exact(self, c: int):
        """``D p*`` for ``c`` exactly (a rational), when the bounds allow it, else ``None``.

        Possible when every supporter whose money is not known exactly
        (``lo < hi``) is rich for certain (``lo >= D p*``): then only the
        supporters of known money (``lo == hi``: the spent-out at 0, and
        everyone before the first inexact payment) can be poor, and the
        poor/rich iteration runs exactly on them. For an integer ``v`` and a
        rational ``r``, ``v < r`` iff ``v < ceil(r)``, so it runs on integers.
        This settles the exact ties that bounds alone cannot (two projects
        whose supporters who still hold money are all rich, with as many
        such supporters: the same ``rho``).
        """
        self.evals += 1
        sup, wt = self.b.sup[c], self.b.wt[c]
        lo, hi = self.lo[sup], self.hi[sup]
        w = np.ones(len(sup), dtype=np.int64) if wt is None else wt
        known = lo == hi
        v, vw = lo[known], w[known]
        cost = self.p.costs[c] * self.D
        n = int(w.sum())
        if int(np.dot(v, vw)) + int(np.dot(hi[~known], w[~known])) < cost:
            return None  # pragma: no cover - called for affordable projects only
        k, paid = 0, 0
        r = Q(cost, n)
        while True:
            mask = v < -((-cost + paid) // (n - k)) if k else v < -((-cost) // n)
            kk = int(vw[mask].sum())
            if kk == k:
                break
            k = kk
            paid = int(np.dot(v[mask], vw[mask]))
            if n == k:
                return None  # pragma: no cover - all poor with known money: unaffordable
            r = Q(cost - paid, n - k)
        unknown = lo[~known]
        if len(unknown) and int(unknown.min()) < -((-r.numerator) // r.denominator):
            return None
        return r

    # -- exact payments, for explanations --------------------------------------
    def exact_payment(self, q: int, L: int, U: int):
        """The exact payment ``p*`` per supporter of the winner ``q``, or ``None``.

        Exact money is known without rationals per voter: a group that still
        holds money (``hi > 0``) has never been poor, so it holds ``t`` minus
        the exact payments of the funded projects on its ballot; a group with
        ``hi = 0`` holds nothing. If every supporter is poor for certain
        (``hi < L``) or rich for certain (``lo >= U``), then ``p* = (C - what
        the poor hold) / (weight of the rich)``, the poor holding ``t * W_poor
        - sum_j p*_j N_j`` (``N_j``: weight of poor supporters of the earlier
        winner ``j``, an exact float sum of integers). Otherwise ``None`` (the
        caller then runs the exact rational MES)."""
        sup, wt = self.sup[q], self.wt[q]
        lo, hi = self.lo[sup], self.hi[sup]
        alive = hi > 0
        poor = alive & (hi < L)
        rich = lo >= U
        if not bool(np.all(poor | rich | ~alive)):
            return None
        w = np.ones(len(sup), dtype=np.int64) if wt is None else wt
        n_rich = int(w[rich].sum())
        paid = 0
        if poor.any():
            wp = w[poor]
            paid = self.t * int(wp.sum())
            if self.funded is not None:
                counts = wp.astype(np.float32) @ self.funded[sup[poor]]
                paid -= sum(pj * int(n) for pj, n in zip(self.pstar.values(), counts))
        p = (self.p.costs[q] - paid) / Q(n_rich)
        if not L <= p * self.D <= U:  # pragma: no cover - would be a bug in the bounds
            raise AssertionError("exact payment outside its bounds")
        return p

    def money_left_all(self, projects) -> dict:
        """Exact money of each project's supporters (after :meth:`run` with ``exact_rounds``)."""
        pstar = list(self.pstar.values())
        out = {}
        for c in projects:
            sup, wt = self.sup[c], self.wt[c]
            alive = self.hi[sup] > 0
            w = np.ones(int(alive.sum()), dtype=np.float32) if wt is None else \
                wt[alive].astype(np.float32)
            total = self.t * int(w.sum(dtype=np.float64))
            if len(w) and self.funded is not None:
                counts = w @ self.funded[sup[alive]]
                total -= sum(pj * int(n) for pj, n in zip(pstar, counts))
            out[c] = total
        return out

    def note_funded(self, q: int) -> None:
        """Column ``len(pstar) - 1`` of ``funded`` (groups x winners, 0/1 as ``float32``:
        sums of weights below ``2**24`` are exact) marks the supporters of ``q``."""
        col = len(self.pstar) - 1
        if self.funded is None or col >= self.funded.shape[1]:
            grown = np.zeros((self.b.n_groups, max(8, 2 * col)), dtype=np.float32)
            if self.funded is not None:
                grown[:, :self.funded.shape[1]] = self.funded
            self.funded = grown
        self.funded[self.b.sup[q], col] = 1

    def explained(self):
        """``self`` with ``rounds`` as :func:`.explain.explain` reads them, or ``None``."""
        if not self.exact_rounds or self.pstar is None:
            return None
        self.bounds = self.rounds
        self.rounds = {q: {"round": i + 1, "r": self.pstar[q]}
                       for i, q in enumerate(self.pstar)}
        return self

    def pay(self, c: int, L: int, U: int) -> None:
        sup = self.sup[c]
        lo = self.lo[sup]
        np.subtract(lo, U, out=lo)
        np.maximum(lo, 0, out=lo)
        self.lo[sup] = lo
        if self.hi is self.lo:
            if L == U:
                return
            self.hi = self.hi.copy()  # pragma: no cover - lo and hi are separate once inexact
        hi = self.hi[sup]
        np.subtract(hi, L, out=hi)
        np.maximum(hi, 0, out=hi)
        self.hi[sup] = hi

    # -- the run ----------------------------------------------------------------
    def start(self, start_order: list[int], alive: list[int]) -> None:
        if self.hi is self.lo:
            self.hi = self.lo.copy()
        costs, mult, D, total = self.p.costs, self.mult, self.D, self.b.total
        self.order.extend(start_order)
        # first lower bounds: as if money were unlimited
        self.stale = {c: Q(costs[c] * D, total[c] * mult[c]) for c in alive}
        # the same as floats, to sort and to filter (rounding is monotone:
        # float(a) > float(b) implies a > b); decisions use the exact values
        self.stalef = {c: float(v) for c, v in self.stale.items()}
        self.remaining = set(alive)

    def rivals(self, q: int, ur, fresh: set):
        """Projects still in the race that might beat ``q`` at ``rho_q <= ur``.

        Lower bounds not yet refreshed this round are refreshed first; what
        is left has a lower bound that does not lose to ``ur``."""
        stale, stalef, tie, mult = self.stale, self.stalef, self.tie, self.mult
        tq = tie[q]
        urf = float(ur)
        out = []
        for d in list(self.remaining):
            if d == q or stalef[d] > urf:
                continue
            s = stale[d]
            if s > ur or (s == ur and tq < tie[d]):
                continue
            if d not in fresh:
                p = self.lower(d, int(s * mult[d]))
                fresh.add(d)
                if p is None:
                    self.remaining.discard(d)  # unaffordable for certain, for good
                    continue
                s = stale[d] = Q(p, mult[d])
                stalef[d] = float(s)
                if s > ur or (s == ur and tq < tie[d]):
                    continue
            out.append(d)
        return out

    def decide(self, q: int, L: int, U: int, fresh: set):
        """The round's winner and ``(L, U)`` bounds of its ``D p*``, or ``None``.

        ``q`` has the smallest lower bound, ``L <= D p*_q <= U``. If no rival
        can beat ``U``, ``q`` wins. Otherwise (an exact tie, or very close)
        ``rho`` is computed exactly (:meth:`exact`) for ``q`` and each rival:
        the smallest exact ``(rho, tie-break)`` wins - every rival not among
        them has a lower bound above ``rho_q``."""
        mult, tie = self.mult, self.tie
        close = self.rivals(q, Q(U, mult[q]), fresh)
        if not close:
            return q, L, U
        e = self.exact(q)
        if e is None:
            return None
        best, best_e = q, e
        for d in self.rivals(q, e / mult[q], fresh):
            ed = self.exact(d)
            if ed is None:
                return None
            self.stale[d] = ed / mult[d]
            self.stalef[d] = float(self.stale[d])
            if (ed / mult[d], tie[d]) < (best_e / mult[best], tie[best]):
                best, best_e = d, ed
        return (best, best_e.numerator // best_e.denominator,
                -((-best_e.numerator) // best_e.denominator), best_e)

    def fund(self, q: int, L: int, U: int, e=None) -> None:
        """Fund ``q`` at ``L <= D p* <= U`` (``e``: ``D p*`` itself, when known)."""
        if self.exact_rounds and self.pstar is not None:
            pq = self.exact_payment(q, int(L), int(U))
            if pq is None:
                self.pstar = None
            else:
                self.pstar[q] = pq
                self.note_funded(q)
        self.pay(q, int(L), int(U))
        self.rounds[q] = (int(L), int(U), e)
        self.order.append(q)
        self.remaining.discard(q)

    def run(self, start_order: list[int] | None = None, alive: list[int] | None = None):
        """Run (or finish, after :meth:`certify`) MES; the funded order, or ``None`` if a
        decision was too close for the bounds (then the exact run decides)."""
        if not self.usable:
            return None
        if start_order is not None:
            self.start(start_order, alive)
        mult, tie = self.mult, self.tie
        stale, stalef, remaining = self.stale, self.stalef, self.remaining
        borrow, record = self.borrow, self.record
        aligned = borrow is not None and start_order is not None
        certified = aligned
        while remaining:
            i = len(self.rounds)
            if aligned:
                if i == len(borrow):  # the run there ended: nothing is affordable there,
                    remaining.clear()  # so nothing is here (less money after the same rounds)
                    break
                else:
                    _, sb, sbf, inb = borrow[i]
                    for d in list(remaining):
                        if d not in inb:
                            remaining.discard(d)  # unaffordable there, so here
                        elif sbf[d] > stalef[d]:
                            stale[d], stalef[d] = sb[d], sbf[d]
                    if not remaining:
                        break
            cand = sorted(remaining, key=stalef.__getitem__)
            best = best_p = best_r = best_rf = None
            fresh = set()
            for c in cand:
                if best is not None and stalef[c] > best_rf:
                    break  # (the order is approximate; rivals() then checks every project)
                p = self.lower(c, int(stale[c] * mult[c]))
                if p is None:
                    remaining.discard(c)
                    continue
                r = stale[c] = Q(p, mult[c])
                rf = stalef[c] = float(r)
                fresh.add(c)
                if best is None or r < best_r or (r == best_r and tie[c] < tie[best]):
                    best, best_p, best_r, best_rf = c, p, r, rf
            if best is None:
                break  # nothing is affordable, for certain
            U = self.upper(best, best_p)
            won = self.decide(best, best_p, U, fresh) if U is not None else None
            if won is None:
                return None
            record.append((won[0], dict(stale), dict(stalef), set(remaining)))
            if aligned:
                q = won[0]
                if q != borrow[i][0]:
                    aligned = certified = False
                elif certified:
                    certified = self.wins_there(q, won, borrow[i])
            self.fund(*won)
        if aligned and len(self.rounds) != len(borrow):
            certified = False
        self.certified = certified
        return self.order

    def wins_there(self, q: int, won: tuple, there: tuple) -> bool:
        """Whether ``q``, which won this round here, wins it at every share up to
        the borrowed run's (where it won it too, after the same rounds): by
        monotonicity (:meth:`.exact.Run.certify`) ``rho_q`` there and in between
        is at most ``rho_q`` here (``<= U / mult``, or exact), and every rival's
        there (a lower bound recorded there) is at least its ``rho`` in between."""
        _, sb, sbf, inb = there
        e = won[3] if len(won) > 3 else None
        ur = (e if e is not None else Q(won[2])) / self.mult[q]
        urf, tq, tie = float(ur), self.tie[q], self.tie
        for d in inb:
            if d == q or sbf[d] > urf:
                continue
            s = sb[d]
            if not (s > ur or (s == ur and tq < tie[d])):
                return False
        return True

    def certify(self, start_order: list[int], alive: list[int], plan: list[tuple[int, object]],
                finish: bool = False) -> int:
        """:meth:`.exact.Run.certify` on bounds: ``plan`` lists ``(q, theta)`` with
        ``theta >= rho_q(t0)`` in currency units (an upper bound from the run at
        ``t0``). Returns the number of rounds certified (``len(plan) + 1`` when the
        end is too); a round that the bounds cannot settle counts as not certified,
        which only costs a shorter interval. After a return below ``len(plan)`` the
        state is that of an exact MES run at this share after that many rounds
        (each round paid at this share's own price), so :meth:`run` can finish it.
        (``finish`` is for :class:`KernelRun`, which must know it in advance.)"""
        if not self.usable:
            return 0
        self.start(start_order, alive)
        D, costs, mult, tie = self.D, self.p.costs, self.mult, self.tie
        for depth, (q, theta) in enumerate(plan):
            if q not in self.remaining:  # pragma: no cover - impossible by monotonicity
                return depth
            # theta in 1/D units, as the stale values of this run
            th = theta * D
            for d in self.rivals(q, th, set()):
                e = self.exact(d)  # ties: rho_d(t1) = theta is enough if q wins the tie-break
                if e is None or (e / mult[d], tie[d]) < (th, tie[q]):
                    return depth
                self.stale[d] = e / mult[d]
                self.stalef[d] = float(self.stale[d])
            L = self.lower(q, int(self.stale[q] * mult[q]))
            U = self.upper(q, L) if L is not None else None
            if L is None or U is None:
                return depth  # (q is affordable here, the bounds just cannot show it)
            # q wins here too: rho_q(t1) <= rho_q(t0) <= theta < rho_d(t1)
            self.fund(q, L, U)
        hi = self.hi
        for c in self.remaining:
            wt = self.wt[c]
            x = hi[self.sup[c]]
            have = int(x.sum()) if wt is None else int(np.dot(x, wt))
            if have >= costs[c] * D:
                return len(plan)  # might be affordable after the last round somewhere
        return len(plan) + 1

    def plan(self, n_free: int) -> list[tuple[int, object]]:
        """``(winner, upper bound of its rho in currency units)`` per round, for :meth:`certify`."""
        D, mult = self.D, self.mult
        out = []
        for q in self.order[n_free:]:
            _, U, e = self.rounds[q]
            out.append((q, (e if e is not None else U) / Q(D * mult[q])))
        return out
