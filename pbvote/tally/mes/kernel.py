"""MES bound runs in C: the optional extension ``pbvote.tally.mes._mes_kernel``.

The extension (``_mes_kernel.c`` beside this file, built by ``setup.py``
when a C compiler and the Python headers are there) computes the same runs
as :class:`.bounds.BoundRun` - ``run``, ``certify`` and borrowing - with the
same bounds, decisions and exact steps; rationals are ``int64`` pairs
compared in 128-bit integers. Anything it cannot decide, or whose sizes it
cannot guarantee against overflow, comes back as undecided and the caller
redoes that share with numpy bounds, then exactly (:mod:`.add1`). It has no
explanations: the add1 search uses it, and the final share is explained by
the numpy or exact run.

This module is its Python side: :class:`Kernel` (the election as the C
code holds it), :class:`KernelRun` (one run) and :class:`KernelPlan`.
"""

from __future__ import annotations

import numpy as np

from ..profile import Q
from .bounds import BoundSupport, scale
from .support import Setup

try:  # the optional C kernel (setup.py); without it the numpy runs do the work
    from . import _mes_kernel
except ImportError:  # pragma: no cover - depends on the build
    _mes_kernel = None

_I64 = (1 << 62) - 1  # int64 values handed to the kernel stay at or below this


class Kernel:
    """The C kernel's copy of an election (:mod:`pbvote.tally.mes._mes_kernel`): supporter
    lists as one CSR of (group, weight) entries (``int32`` in the kernel), costs,
    utility multipliers and tie-break ranks, built once per (election, utility,
    tie-break) and cached on the compiled profile."""

    def __init__(self, profile, bsup: BoundSupport, mult: list[int], tie: list[int]):
        lens = [len(s) for s in bsup.sup]
        ptr = np.zeros(len(lens) + 1, dtype=np.int64)
        np.cumsum(lens, out=ptr[1:])
        parts = bsup.sup or [np.zeros(0, dtype=np.intp)]
        idx = np.concatenate(parts).astype(np.int64)
        wt = np.concatenate([np.ones(len(s), dtype=np.int64) if w is None else w
                             for s, w in zip(bsup.sup, bsup.wt)] or [np.zeros(0, np.int64)])
        # a cost beyond int64 can never be paid (every sum of money is below 2**62): -1
        cost = np.array([c if c <= _I64 else -1 for c in profile.costs], dtype=np.int64)
        mlt = np.array([min(max(1, u), _I64) for u in mult], dtype=np.int64)
        rank = np.array(tie, dtype=np.int64)
        self.n_voters = profile.n_voters
        self.mult = mult
        self.capsule = _mes_kernel.election(bsup.n_groups, ptr.tobytes(), idx.tobytes(),
                                            wt.astype(np.int64).tobytes(), cost.tobytes(),
                                            mlt.tobytes(), rank.tobytes())
        self._alive = (None, b"")

    @classmethod
    def of(cls, setup: Setup):
        """The cached kernel data, or ``None`` when the extension is not built (or the
        election has more than ``2**31`` groups or voters in one group)."""
        if _mes_kernel is None:
            return None
        profile, mult, tie = setup.profile, setup.mult, setup.tie
        bsup = BoundSupport.of(profile, setup.support)
        key = ("mes-kernel", tuple(mult), tuple(tie))
        if key not in profile.cache:
            # the kernel holds groups and weights as int32
            fits = bsup.n_groups < 1 << 31 and all(w is None or int(w.max(initial=1)) < 1 << 31
                                                   for w in bsup.wt)
            profile.cache[key] = cls(profile, bsup, mult, tie) if fits else None
        return profile.cache[key]

    def alive_buffer(self, alive: list[int]) -> bytes:
        """``alive`` as ``int64`` bytes (cached for the list the add1 loop passes every run;
        read once, so that two threads sharing this election never mix their lists)."""
        cached = self._alive
        if cached[0] is not alive:
            cached = self._alive = (alive, np.array(alive, dtype=np.int64).tobytes())
        return cached[1]

    def plan_buffer(self, plan, D: int) -> bytes:
        """``(q, theta)`` pairs (currency units) as the kernel's ``(q, num, den)`` of
        ``theta * D``; one that does not fit is rounded *up* to ``ceil(theta D mult) /
        mult`` (still at least ``rho_q`` at the lower share: a weaker, valid certificate)."""
        out = []
        for q, theta in plan:
            th = Q(theta) * D
            num, den = int(th.numerator), int(th.denominator)
            if num > _I64 or den > _I64:
                m = self.mult[q]
                x = th * m
                num, den = -((-int(x.numerator)) // int(x.denominator)), m
                if num > _I64 or den > _I64:  # pragma: no cover - not on real data
                    return None
            out += (q, num, den)
        return np.array(out, dtype=np.int64).tobytes()


class KernelPlan:
    """The rounds of a :class:`KernelRun`, as a plan for :meth:`KernelRun.certify`
    (passed to the kernel as is when the probe has the same ``D``)."""

    def __init__(self, run: "KernelRun", n_rounds: int):
        self.run = run
        self.n = n_rounds

    def __len__(self) -> int:
        return self.n

    def fractions(self) -> list[tuple[int, object]]:
        """``(q, theta)`` in currency units, as :meth:`BoundRun.plan`."""
        r = np.frombuffer(self.run.rounds, dtype=np.int64).reshape(-1, 5)
        D, mult = self.run.D, self.run.kern.mult
        return [(int(q), (Q(int(en), int(ed)) if ed else Q(int(U))) / Q(D * mult[int(q)]))
                for q, _, U, en, ed in r]


class KernelRun:
    """One MES run on integer bounds in C: :class:`BoundRun`'s ``run``, ``certify``
    and borrowing, with the same decisions and the same proof (module docstring),
    without explanations. ``run`` returns the funded order, or ``None`` when the
    bounds cannot decide a round (or the sizes are beyond what the kernel takes):
    the caller then takes another path for this share.

    ``D``: as for :class:`BoundRun`. ``borrow``: a :class:`KernelRun` at a
    larger share with the same ``D`` that kept its ``record`` (``record=True``).
    """

    def __init__(self, kern: Kernel, t, D: int | None = None, borrow=None, record=False):
        self.kern = kern
        self.t = t = Q(t)
        num, den = int(t.numerator), int(t.denominator)
        self.D = D = D if D is not None else scale(kern.n_voters, t)
        self.lo = (num * D) // den
        self.hi = self.lo + (1 if (num * D) % den else 0)
        self.usable = D > 0 and self.hi <= _I64
        self.borrow = borrow if (isinstance(borrow, KernelRun) and borrow.D == D
                                 and borrow.record is not None) else None
        self.want_record = record
        self.record = None
        self.certified = False
        self.order = None
        self.rounds = b""
        self.plan_raw = b""
        self.evals = 0
        self._continued = None  # the order after a failed certify, if finished

    def _call(self, free, alive, plan, finish):
        status, depth, cert, order, rounds, plan_raw, record, evals = _mes_kernel.run(
            self.kern.capsule, self.D, self.lo, self.hi, self.kern.alive_buffer(alive), plan,
            finish, self.borrow.record if self.borrow is not None else None, self.want_record)
        self.evals += evals
        self.rounds, self.plan_raw, self.record = rounds, plan_raw, record
        self.certified = bool(cert)
        self.order = list(free) + order if status == 0 else None
        return status, depth

    def run(self, start_order: list[int] | None = None, alive: list[int] | None = None):
        """The funded order (``start_order`` first), or ``None`` if undecided. Without
        arguments: the run finished by :meth:`certify` (``finish=True``)."""
        if start_order is None:
            return self._continued
        if not self.usable:
            return None
        self._call(start_order, alive, None, False)
        return self.order

    def certify(self, start_order: list[int], alive: list[int], plan, finish: bool = False) -> int:
        """:meth:`BoundRun.certify` (``plan``: a :class:`KernelPlan` or ``(q, theta)``
        pairs). With ``finish``, a failed certificate is finished as an ordinary
        run at this share (its certified rounds are exact MES rounds here), read
        with :meth:`run` and no arguments."""
        if not self.usable:
            return 0
        if isinstance(plan, KernelPlan) and plan.run.D == self.D:
            raw = plan.run.plan_raw
        else:
            raw = self.kern.plan_buffer(plan.fractions() if isinstance(plan, KernelPlan) else plan,
                                        self.D)
            if raw is None:  # pragma: no cover - not on real data
                return 0
        _, depth = self._call(start_order, alive, raw, finish)  # (depth 0 if undecided there)
        if depth <= len(plan) and finish:
            self._continued = self.order  # None if the rest was undecided
        return depth

    def plan(self, n_free: int) -> KernelPlan:
        """The rounds as a plan for a certificate at a larger share."""
        return KernelPlan(self, len(self.rounds) // 40)
