"""The C kernel of MES bound runs (``pbvote.tally.mes._mes_kernel``, wrapped by
``pbvote.tally.mes.kernel.KernelRun``): the same decisions as the numpy bound runs, hence
the same add1 loop, and the same outcomes as without it.

The extension is optional. Where it is not built these tests skip, unless
``PBVOTE_REQUIRE_TALLY_KERNEL=1`` (CI), where its absence is a failure.
"""

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pbvote.tally import Election, run_rule
from pbvote.tally.mes.exact import Run
from pbvote.tally.profile import Q

from .conftest import FAST_ADD1, shared_files
from .mes_oracles import add1 as add1_by
from .test_tally_add1_interval import add1, elections
from .test_tally_mes_bounds import _setup as _bounds_setup

bounds = pytest.importorskip("pbvote.tally.mes.bounds")
kernel = pytest.importorskip("pbvote.tally.mes.kernel")

REQUIRED = os.environ.get("PBVOTE_REQUIRE_TALLY_KERNEL") == "1"


def test_kernel_is_built_where_required():
    """CI sets ``PBVOTE_REQUIRE_TALLY_KERNEL=1``: the extension must then import."""
    if not REQUIRED:
        pytest.skip("PBVOTE_REQUIRE_TALLY_KERNEL is not 1")
    from pbvote.tally.mes import _mes_kernel  # noqa: F401  (ImportError = not built)

    assert kernel._mes_kernel is not None


@pytest.fixture(autouse=True)
def _kernel(request):
    if request.node.name.startswith("test_kernel_is_built"):
        return
    if kernel._mes_kernel is None:
        if REQUIRED:
            pytest.fail("the C kernel is required (PBVOTE_REQUIRE_TALLY_KERNEL=1) but not built")
        pytest.skip("the C kernel (pbvote.tally.mes._mes_kernel) is not built")


def _setup(election, utility="cost", tie_break="lexico"):
    """``test_tally_mes_bounds._setup`` and the kernel's copy of the election."""
    setup, profile, support, free, alive = _bounds_setup(election, utility, tie_break)
    return setup, profile, support, free, alive, kernel.Kernel.of(setup)


def _rounds(run):
    """``[(q, L, U, exact D p* or None)]`` of a numpy or kernel bound run."""
    if isinstance(run, kernel.KernelRun):
        import numpy as np

        r = np.frombuffer(run.rounds, dtype=np.int64).reshape(-1, 5)
        return [(int(q), int(L), int(U), Q(int(en), int(ed)) if ed else None)
                for q, L, U, en, ed in r]
    return [(q, *run.rounds[q]) for q in run.order if q in run.rounds]


class _coarse:
    """``bounds._LIMIT`` lowered (a small ``D``: undecided runs and exact ties)."""

    def __init__(self, limit):
        self.limit = limit

    def __enter__(self):
        self.old = bounds._LIMIT
        if self.limit is not None:
            bounds._LIMIT = self.limit

    def __exit__(self, *exc):
        bounds._LIMIT = self.old


LIMITS = st.sampled_from([None, None, 1 << 20, 1 << 14, 1 << 10])


def _exact(setup, t):
    return Run(setup, t).run(setup.free, setup.alive)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(elections(), st.sampled_from(["cost", "approvals"]), st.sampled_from(["lexico", "equalshares"]),
       st.integers(0, 30), LIMITS)
def test_kernel_run_is_the_exact_run(election, utility, tie_break, k, limit):
    """A kernel run that decides gives the exact run's order, and decides
    whenever ``D`` is the usual one and the numpy bounds run decides without an
    exact tie step (where the two may take different, equally valid, paths:
    the kernel compares lower bounds exactly, numpy as floats first)."""
    setup, profile, support, free, alive, kern = _setup(election, utility, tie_break)
    t = Q(profile.budget) / profile.n_voters + k
    with _coarse(limit):
        ref = bounds.BoundRun(setup, t)
        expected = ref.run(free, alive)
        run = kernel.KernelRun(kern, t)
        got = run.run(free, alive)
    exact = _exact(setup, t)
    if got is not None:
        assert got == exact
        if expected is not None and all(e is None for _, _, e in ref.rounds.values()):
            assert _rounds(run) == _rounds(ref)  # the same rounds, the same bounds
    if expected is not None and limit is None:
        assert got == expected


def _same_outcome_between(setup, t0, t1, order):
    """The exact outcome is ``order`` at ``t0``, ``t1`` and at shares in between."""
    for t in {t0, t1, (t0 + t1) / 2, t0 + Q(1, 3) * (t1 - t0)} | {
            t0 + j for j in range(int(t1 - t0) + 1)}:
        assert _exact(setup, t) == order, t


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(elections(), st.sampled_from(["cost", "approvals"]), st.sampled_from(["lexico", "equalshares"]),
       st.integers(0, 20), st.integers(1, 6), LIMITS, st.booleans())
def test_kernel_certificates_hold(election, utility, tie_break, k, step, limit, finish):
    """What the kernel certifies is true: a certificate on ``[t0, t1]`` (from the
    kernel's own plan, or from fractions as an exact or numpy anchor gives it)
    means the same exact outcome on the whole interval; a certificate finished
    as a run gives the exact outcome at ``t1``; a run below a recorded one
    (``borrow``) that says ``certified`` has the same exact outcome up there."""
    setup, profile, support, free, alive, kern = _setup(election, utility, tie_break)
    t0 = Q(profile.budget) / profile.n_voters + k
    t1 = t0 + step
    n_free = len(free)
    args = (setup,)
    with _coarse(limit):
        anchor = kernel.KernelRun(kern, t0)
        order = anchor.run(free, alive)
        if order is None:
            return
        assert order == _exact(*args, t0)
        plans = [anchor.plan(n_free), anchor.plan(n_free).fractions()]
        for plan in plans:
            probe = kernel.KernelRun(kern, t1)
            depth = probe.certify(free, alive, plan, finish=finish)
            if depth > len(plan):
                _same_outcome_between(*args, t0, t1, order)
            elif finish and probe.run() is not None:
                assert probe.run() == _exact(*args, t1)
        D = bounds.scale(profile.n_voters, t1)
        top = kernel.KernelRun(kern, t1, D=D, record=True)
        if top.run(free, alive) is None:
            return
        assert top.order == _exact(*args, t1)
        low = kernel.KernelRun(kern, t0, D=D, borrow=top)
        if low.run(free, alive) is None:
            return
        assert low.order == order
        if low.certified:
            _same_outcome_between(*args, t0, t1, order)


def _add1_with(election, utility, tie_break, kernel, limit=None):
    stats = {}
    with _coarse(limit):
        out = add1(election, utility, tie_break, "bounds+auto", stats,
                   engine="kernel" if kernel else "bounds")
    return out, stats


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(elections(), st.sampled_from(["cost", "approvals"]), st.sampled_from(["lexico", "equalshares"]),
       LIMITS)
def test_add1_with_the_kernel_equals_unit_steps_and_numpy(election, utility, tie_break, limit):
    """The default add1 loop with the kernel: the outcome of unit steps (order,
    number of steps, final share), as with numpy runs."""
    expected = add1(election, utility, tie_break, "unit")
    (got, st_k) = _add1_with(election, utility, tie_break, True, limit)
    (plain, st_n) = _add1_with(election, utility, tie_break, False, limit)
    assert got == expected == plain
    assert st_k["kernel_runs"] >= 1 and st_n["kernel_runs"] == 0


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(elections(), st.sampled_from(["cost", "approvals"]), st.sampled_from(["lexico", "equalshares"]),
       st.sampled_from(["add1", "add1+greedy"]))
def test_run_rule_with_and_without_the_kernel(election, utility, tie_break, completion):
    """The whole outcome (order, explanations, satisfaction, the parameters but
    the run counts) does not depend on the kernel."""
    with_kernel = run_rule(election, "mes", utility=utility, completion=completion,
                           tie_break=tie_break, engine="kernel")
    without = run_rule(Election(budget=election.budget, projects=election.projects,
                                ballots=election.ballots),
                       "mes", utility=utility, completion=completion, tie_break=tie_break,
                       engine="bounds")
    assert with_kernel.selected == without.selected
    assert with_kernel.projects == without.projects
    assert with_kernel.satisfaction == without.satisfaction
    assert without.parameters["mes_kernel_runs"] == 0
    drop = {"mes_kernel_runs", "mes_runs"}  # (the certificates may differ, not the outcome)
    assert ({k: v for k, v in with_kernel.parameters.items() if k not in drop}
            == {k: v for k, v in without.parameters.items() if k not in drop})


def _shared_cases():
    out = []
    for name in shared_files():
        marks = [] if name in FAST_ADD1 else [pytest.mark.slow]
        if name.startswith("Hungary_Budapest"):
            marks = [pytest.mark.very_slow]  # about 100 s without the kernel
        out.append(pytest.param(name, marks=marks, id=name[:-3]))
    return out or [pytest.param(None, marks=pytest.mark.skip("no shared files"))]


@pytest.mark.parametrize("name", _shared_cases())
def test_shared_add1_same_with_and_without_the_kernel(shared, references, name):
    """Every shared file: the same add1 outcome, steps and final share with the
    kernel as forced off (numpy runs), every run done in C, none undecided, and
    the same number of runs (the certificates are as good)."""
    _, election = shared(name)
    setup, profile, support, free, alive, kern = _setup(election)
    results = {}
    for use_kernel in (True, False):
        stats = {}
        order, _, naive, final_t = add1_by(setup, "bounds+auto", stats,
                                           engine="kernel" if use_kernel else "bounds")
        runs = stats["runs"]
        results[use_kernel] = (order, runs, naive, final_t)
        if use_kernel:
            assert stats["kernel_runs"] == runs and stats["kernel_undecided"] == 0
    assert results[True] == results[False]
    ref = references[1].get(name, {}).get("mes_cost_add1")
    if ref and "selected" in ref:
        assert sorted(profile.ids[c] for c in results[True][0]) == sorted(ref["selected"])


def test_kernel_rejects_inconsistent_input():
    from pbvote.tally.mes import _mes_kernel as k

    import numpy as np

    def b(*xs):
        return np.array(xs, dtype=np.int64).tobytes()

    with pytest.raises(ValueError):  # ptr does not end at the number of entries
        k.election(2, b(0, 3), b(0, 1), b(1, 1), b(5), b(5), b(0))
    with pytest.raises(ValueError):  # group out of range
        k.election(2, b(0, 1), b(7), b(1), b(5), b(5), b(0))
    with pytest.raises(ValueError):  # not a multiple of 8 bytes
        k.election(2, b"\0" * 12, b(0), b(1), b(5), b(5), b(0))
    cap = k.election(2, b(0, 2), b(0, 1), b(1, 1), b(5), b(5), b(0))
    with pytest.raises(ValueError):  # a project out of range
        k.run(cap, 1, 3, 3, b(4), None, False, None, False)
    with pytest.raises(ValueError):  # starting bounds not one unit apart
        k.run(cap, 1, 3, 9, b(0), None, False, None, False)
    status, depth, certified, order, *_ = k.run(cap, 1, 3, 3, b(0), None, False, None, False)
    assert (status, order) == (0, [0])  # two voters with 3 each pay 5
    status, *_ = k.run(cap, 1, 1 << 61, 1 << 61, b(0), None, False, None, False)
    assert status == 1  # sums could pass 2**62: undecided, never a wrong answer
