"""The add1 completion: the per-voter share raised one unit at a time, without
one MES run per unit.

**The definition.** Rerun MES with the share ``t = budget/n + k`` for
``k = 0, 1, ...``; stop at the first outcome that is over the budget (keep
the previous one) or exhaustive (no unfunded project fits in what is left;
keep it). ``naive_mes_runs`` is the number of shares the definition runs.

**Settling many shares with one run.** Both tests depend only on the funded
set, so a whole range of shares with the same outcome can be settled at
once, exactly:

* *Interval certificates* (:func:`gallop`, upwards). After a run at ``t``
  (the *anchor*), one run at ``t + s`` checks that every share in
  ``[t, t + s]`` gives the anchor's rounds (:meth:`.exact.Run.certify`, by
  monotonicity of money in the share; the proof is in its docstring); ``s``
  doubles while that works. The first probe goes to the next unsettled
  share, or further (half the length settled from the previous anchor)
  when outcomes have lately lasted long. A probe that fails at the next
  unsettled share is finished as an ordinary run there (its certified
  rounds are exact MES rounds at that share), so it becomes the next anchor
  and costs nothing extra.
* *Descending blocks* (where outcomes change at almost every share). For
  the 8 shares ``k..T``: one run at ``T``, then one at ``k`` that *borrows*
  the lower bounds and unaffordable projects of the run at ``T`` (money at
  ``k`` is at most money at ``T`` after the same rounds, so every ``rho``
  is at least the one there); if that run's winners beat those bounds, the
  whole block is certified with two runs, else ``T-1, ..., k+1`` are run
  downwards, each borrowing from the one just above. Only engines on
  integer bounds can borrow.

:func:`settle` switches between the two on a running mean of the shares
settled per anchor (below 1.5: blocks; a certified block switches back) and
reads every outcome in increasing order of share, so the stop is the
definition's. Either way the result is the one of stepping one unit at a
time (tests compare it with that definition on random elections).

**Engines.** The runs themselves are exact (:class:`ExactRuns`), on numpy
integer bounds with an exact fallback (:class:`BoundRuns`), or in C with a
numpy then exact fallback (:class:`KernelRuns`): the same decisions, so the
same outcome, only the speed differs.
"""

from __future__ import annotations

from dataclasses import dataclass

from .exact import Run
from .support import Setup

try:  # numpy: the bound runs; without it every run is exact
    from .bounds import BoundRun, scale
except ImportError:  # pragma: no cover - depends on the environment
    BoundRun = scale = None

BLOCK = 8  # shares per descending block
SWITCH = 1.5  # below this mean of shares settled per anchor: blocks


def new_stats() -> dict:
    """The counters an add1 search fills: ``runs`` (every MES run started,
    probes included), ``anchors`` (shares computed in full, blocks included),
    ``certify_ok``/``certify_failed`` (certificates and certified blocks),
    ``continued`` (failed probes finished as the next anchor), ``lengths``
    (shares settled per anchor or block), ``blocks``, ``exact_runs`` (exact
    fallbacks), ``kernel_runs`` and ``kernel_undecided``."""
    return dict(runs=0, anchors=0, certify_ok=0, certify_failed=0, continued=0, lengths=[],
                exact_runs=0, blocks=0, kernel_runs=0, kernel_undecided=0)


class ExactRuns:
    """MES runs at given shares, all exact (:class:`.exact.Run`)."""

    name = "exact"
    borrows = False  # no descending blocks

    def __init__(self, setup: Setup, stats: dict):
        self.setup = setup
        self.stats = stats

    def new_run(self, t, D=None, above=None):
        """A run at share ``t``, not started (for :meth:`run_at` or a certificate)."""
        return Run(self.setup, t)

    def fallback(self, t):
        """``(run, order)`` at ``t`` when the engine's own run could not decide."""
        self.stats["exact_runs"] += 1
        run = Run(self.setup, t)
        return run, run.run(self.setup.free, self.setup.alive)

    def run_at(self, t, D=None, above=None):
        """``(run, order)``: the MES outcome at share ``t`` (``above``: a run to borrow from)."""
        self.stats["runs"] += 1
        run = self.new_run(t, D, above)
        order = run.run(self.setup.free, self.setup.alive)
        return (run, order) if order is not None else self.fallback(t)

    def finish(self, probe, t):
        """``(run, order)`` at ``t`` from a probe whose certificate failed (``finish=True``)."""
        order = probe.run()
        return (probe, order) if order is not None else self.fallback(t)


class BoundRuns(ExactRuns):
    """Runs on numpy integer bounds (:class:`.bounds.BoundRun`), exact where undecided."""

    name = "bounds"
    borrows = True

    def new_run(self, t, D=None, above=None):
        return BoundRun(self.setup, t, D=D, borrow=above if isinstance(above, BoundRun) else None)


class KernelRuns(ExactRuns):
    """Runs in C (:class:`.kernel.KernelRun`); numpy bounds, then exact, where undecided."""

    name = "kernel"
    borrows = True

    def __init__(self, setup: Setup, stats: dict, kern):
        super().__init__(setup, stats)
        self.kern = kern

    def new_run(self, t, D=None, above=None):
        from .kernel import KernelRun

        self.stats["kernel_runs"] += 1
        return KernelRun(self.kern, t, D=D, borrow=above, record=D is not None)

    def fallback(self, t):
        self.stats["kernel_undecided"] += 1
        run = BoundRun(self.setup, t)
        order = run.run(self.setup.free, self.setup.alive)
        if order is not None:
            return run, order
        return super().fallback(t)


@dataclass
class Settled:
    """Where add1 stops: the funded ``order`` (``None`` for ``run`` if no share
    was kept: every one was over budget), the run that gave it, its share
    ``t`` and ``steps``, the number of shares the definition runs."""

    order: list[int]
    run: object
    t: object
    steps: int


def gallop(engine, plan, k: int, last: int, step: int):
    """Certify the anchor's rounds ``plan`` on shares ``k..k+step``, ``step``
    doubling while certificates hold (the interval certificates of the
    module docstring). Returns ``(last, pending)``: every share up to
    ``base + last`` gives the anchor's outcome, and ``pending`` is the
    failed probe finished as a run at ``last + 1`` (``(run, order)``) when
    the failure was at the very next share, else ``None``."""
    setup, st = engine.setup, engine.stats
    free, alive, base = setup.free, setup.alive, setup.base
    while True:
        t = base + k + step
        probe = engine.new_run(t)
        st["runs"] += 1
        finish = k + step == last + 1
        if probe.certify(free, alive, plan, finish=finish) > len(plan):
            st["certify_ok"] += 1
            last = k + step
            step *= 2
            continue
        st["certify_failed"] += 1
        if finish:
            st["continued"] += 1
            return last, engine.finish(probe, t)
        return last, None


def settle(engine) -> Settled:
    """The add1 search (module docstring) with ``engine``'s runs."""
    setup, st = engine.setup, engine.stats
    base, n_free = setup.base, len(setup.free)
    previous_order, previous_run = list(setup.free), None

    def stops(j, run, order):
        """The search's result if it ends at share ``base + j``, else ``None``."""
        nonlocal previous_order, previous_run
        over, exhaustive = setup.outcome(order)
        if over:
            return Settled(previous_order, previous_run,
                           base + j - 1 if previous_run else None, j + 1)
        if exhaustive:
            return Settled(order, run, base + j, j + 1)
        previous_order, previous_run = order, run
        return None

    k, length, pending, mean = 0, 1, None, 2.0
    while True:
        if mean >= SWITCH or not engine.borrows:  # interval certificates, upwards
            st["anchors"] += 1
            run, order = pending if pending is not None else engine.run_at(base + k)
            end = stops(k, run, order)
            if end is not None:
                return end
            last, pending = gallop(engine, run.plan(n_free), k, k, length)
            settled = last - k + 1
            length = max(1, settled // 2)
            mean = 0.7 * mean + 0.3 * settled
            st["lengths"].append(settled)
            k = last + 1
            if mean < SWITCH and engine.borrows and pending is not None:
                end = stops(k, *pending)  # not wasted: the first share of the blocks
                if end is not None:
                    return end
                pending = None
                k += 1
            continue
        # descending blocks, each run borrowing bounds from the run above
        st["anchors"] += 1
        st["blocks"] += 1
        top = k + BLOCK - 1
        D = scale(setup.profile.n_voters, base + top)
        outcomes = {top: engine.run_at(base + top, D)}
        outcomes[k] = low = engine.run_at(base + k, D, outcomes[top][0])
        if getattr(low[0], "certified", False):
            st["certify_ok"] += 1
            for j in range(k + 1, top):
                outcomes[j] = low
            mean, length = 2.0, max(1, BLOCK // 2)  # outcomes last again: back to intervals
        else:
            st["certify_failed"] += 1
            for j in range(top - 1, k, -1):
                outcomes[j] = engine.run_at(base + j, D, outcomes[j + 1][0])
        for j in range(k, top + 1):
            end = stops(j, *outcomes[j])
            if end is not None:
                return end
        st["lengths"].append(top - k + 1)
        k = top + 1
