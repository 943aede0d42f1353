"""The Method of Equal Shares (MES), exact, with its completions.

Every voter gets an equal share of the budget, and a project is funded only
if the people who voted for it can pay for it together from their shares;
round after round the project that costs its supporters the least per unit
of benefit goes first (:mod:`.exact` states the rule precisely).

The package, by concern:

* :mod:`.support` - who supports what, and :class:`~.support.Setup`: one
  election, utility and tie-break ready for runs at any share;
* :mod:`.exact` - one run on exact rationals: the definition, and the
  monotonicity certificate the add1 search rests on;
* :mod:`.bounds` - the same run on exact integer bounds of every voter's
  money (numpy), deciding only what the bounds imply and handing the rest
  back to the exact run;
* :mod:`.kernel` - those bound runs in C (the optional extension
  ``_mes_kernel``, built by ``setup.py``);
* :mod:`.add1` - the add1 search over shares (interval certificates,
  descending blocks) with any of those engines;
* :mod:`.explain` - details and one sentence per project.

**Engines** (``engine=`` of :func:`pbvote.tally.run_rule`; the outcome never
depends on it, only the speed): ``exact``; ``bounds`` (numpy bound runs,
exact where they cannot decide); ``kernel`` (add1's runs in C, then numpy,
then exact; an error if the extension is not built); ``auto`` (the default:
``kernel`` when built, else ``bounds`` when numpy is installed, else
``exact``). Bound runs need equal utilities per supporter, so ``points``
utilities always run exactly.

**Completions** are composed from two steps (:data:`COMPLETIONS`): where MES
is run - at the equal share, or at the share the add1 search settles on -
and whether the greedy fill (:func:`.rules.greedy.utilitarian_completion`)
spends what is left afterwards.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..profile import Profile
from ..rules.base import Params, RuleResult, TallyError
from ..rules.greedy import utilitarian_completion
from . import add1
from .explain import explain, explained_run
from .support import Setup

try:  # numpy: the bound runs
    from . import bounds as _bounds  # noqa: F401
    HAVE_BOUNDS = True
except ImportError:  # pragma: no cover - depends on the environment
    HAVE_BOUNDS = False

ENGINES = ("auto", "kernel", "bounds", "exact")


def _check(engine: str) -> None:
    if engine not in ENGINES:
        raise TallyError(f"unknown MES engine {engine!r} (known: {', '.join(ENGINES)})")
    if engine in ("bounds", "kernel") and not HAVE_BOUNDS:
        raise TallyError(f"the {engine} engine needs numpy")
    if engine == "kernel":
        from .kernel import _mes_kernel

        if _mes_kernel is None:
            raise TallyError("the C kernel (pbvote.tally.mes._mes_kernel) is not built")


def uses_bounds(setup: Setup, engine: str) -> bool:
    """Whether ``engine`` runs on integer bounds here (numpy, equal utilities)."""
    _check(engine)
    return engine != "exact" and HAVE_BOUNDS and not setup.support.points


def engine_for(setup: Setup, engine: str, stats: dict) -> add1.ExactRuns:
    """The runs the add1 search uses for ``engine`` on this election."""
    if not uses_bounds(setup, engine):
        return add1.ExactRuns(setup, stats)
    if engine in ("auto", "kernel"):
        from .kernel import Kernel

        kern = Kernel.of(setup)
        if kern is not None:  # (None: not built, or the election is beyond its int32)
            return add1.KernelRuns(setup, stats, kern)
    return add1.BoundRuns(setup, stats)


@dataclass(frozen=True)
class Found:
    """Where MES was run: the funded ``order``, the run that explains it (``None``
    without voters) and what to report in the outcome's parameters."""

    order: list[int]
    run: object
    info: dict


def at_equal_share(setup: Setup, engine: str) -> Found:
    """Plain MES: one run at the equal share, budget / number of voters."""
    bounds = uses_bounds(setup, engine)
    if not setup.profile.n_voters:
        return Found(list(setup.free), None, {})
    order, run = explained_run(setup, setup.base, bounds)
    return Found(order, run, {})


def at_add1_share(setup: Setup, engine: str) -> Found:
    """MES at the share the add1 search settles on (:mod:`.add1`)."""
    runs = engine_for(setup, engine, add1.new_stats())
    if not setup.profile.n_voters:
        return Found(list(setup.free), None, {})
    end = add1.settle(runs)
    st = runs.stats
    info = {"mes_runs": st["runs"], "naive_mes_runs": end.steps, "final_per_voter_share": end.t,
            "mes_kernel_runs": st["kernel_runs"]}
    run = end.run
    if run is not None and (end.t != run.t or not isinstance(run, add1.Run)):
        # explain with the money of the final share itself (the same outcome by
        # construction; checked, as a guard on the search)
        again, run = explained_run(setup, end.t, runs.borrows)
        if again != end.order:  # pragma: no cover - would be a bug
            raise AssertionError("the add1 search changed the outcome")
    return Found(end.order, run, info)


def greedy_fill(profile: Profile, params: Params, result: RuleResult) -> RuleResult:
    """Spend what MES left: the utilitarian greedy completion, marked as such."""
    filled = utilitarian_completion(profile, params, result.order)
    for c in filled.order[len(result.order):]:
        result.details[c] = {**result.details.get(c, {}), "completion": "greedy",
                             **filled.details[c]}
        result.reasons[c] = "Funded in the completion step: " + filled.reasons[c][len("Funded: "):]
    result.order = filled.order
    return result


@dataclass(frozen=True)
class Completion:
    """A completion: where MES is run, then the fills that spend what is left."""

    search: Callable[[Setup, str], Found]  # (setup, engine name)
    fills: tuple[Callable[[Profile, Params, RuleResult], RuleResult], ...] = ()


COMPLETIONS: dict[str, Completion] = {
    "none": Completion(at_equal_share),
    "greedy": Completion(at_equal_share, (greedy_fill,)),
    "add1": Completion(at_add1_share),
    "add1+greedy": Completion(at_add1_share, (greedy_fill,)),
}


def run_mes(profile: Profile, params: Params) -> RuleResult:
    """Method of Equal Shares: the budget is split equally among all voters,
    and a project is funded only if the people who voted for it can pay for it
    together from their shares; the project that costs its supporters the least
    per unit of benefit goes first. Each group of like-minded voters thus
    decides over its fair share of the budget. Completions spend what is left:
    ``add1`` raises everyone's share step by step while the result still fits
    the budget, ``greedy`` funds the most popular remaining projects that fit."""
    setup = Setup(profile, params.utility, params.tie_break)
    completion = COMPLETIONS[params.completion]
    found = completion.search(setup, params.engine)
    result = explain(setup, params, found.order, found.run)
    for fill in completion.fills:
        result = fill(profile, params, result)
    result.info.update(per_voter_share=setup.base, **found.info)
    return result
