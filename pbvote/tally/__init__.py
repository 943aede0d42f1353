"""pbvote's tally engine: ballots in, funded projects and reasons out.

Pure: no Flask, no database. The web app, the CLI and the tests all call
:func:`run_rule`::

    from pbvote.tally import run_rule, pabulib
    election = pabulib.load_election("Poland_Swiecie_2023.pb")
    outcome = run_rule(election, "mes", utility="cost", completion="add1")
    outcome.selected          # project ids in selection order
    outcome.projects[0].reason

Rules live in a registry of rule objects (:data:`RULES`, see
:mod:`.rules`): ``greedy``, ``greedy-no-skip``, ``greedy-threshold``,
``greedy-exclusive`` (honours groups of mutually exclusive projects),
``greedy-custom`` (Poznań's reserve), ``greedy-per-cost`` (value for
money), ``knapsack``, ``mes`` and ``phragmen``. Tie-breaks: ``lexico`` (smallest project id in string order)
and ``equalshares`` (lowest cost, then most votes, then id).

Money is an ``int`` in the smallest unit and every comparison that decides
an outcome is exact (integers, and exact rationals: ``gmpy2.mpq`` when
installed, else ``fractions.Fraction``). Dependencies: the standard library
and numpy (MES on integer bounds, the satisfaction histogram), plus an
optional C extension for MES + add1 (``pbvote/tally/mes/_mes_kernel.c``,
built by ``setup.py``); without numpy or the extension every result is the
same, only slower.
"""

from __future__ import annotations

import time
from collections import Counter
from itertools import chain

from .model import (
    Ballot,
    Election,
    FrozenMap,
    Outcome,
    Project,
    ProjectResult,
    Satisfaction,
    group_ballots,
)
from .profile import TIE_BREAKS, UTILITIES, Profile, compile_profile

try:  # optional: a faster satisfaction histogram
    import numpy as _np
except ImportError:  # pragma: no cover - depends on the environment
    _np = None
from .rules import COMPLETION, RULES
from .rules.base import DEFAULT_RESERVE, Params, Rule, TallyError
from .published import FILE_RULES, SelectedCheck, check_selected, rule_for_file, rule_from_meta

__all__ = [
    "Ballot", "Election", "FrozenMap", "Outcome", "Project", "ProjectResult", "Satisfaction",
    "RULES", "Rule", "UTILITIES", "COMPLETIONS", "TIE_BREAKS", "FILE_RULES", "MONEY_PARAMETERS",
    "TallyError", "group_ballots", "run_rule", "rule_for_file", "rule_from_meta", "satisfaction",
    "check_selected", "SelectedCheck", "DEFAULT_RESERVE",
]

COMPLETIONS = COMPLETION.values

# Outcome.parameters that are amounts in the smallest unit (like Outcome.budget):
# divide by Outcome.money_scale to show them in the currency unit
MONEY_PARAMETERS = frozenset().union(*(rule.money_info for rule in RULES.values()))


def _default_utility(spec: Rule, election: Election) -> str:
    choice = spec.choice("utility")
    if choice is None:
        return "cost"
    if choice.default is None:  # greedy rules: rank by the points voters gave, if they gave any
        return "points" if election.vote_type in ("cumulative", "scoring", "ordinal") else "cost"
    return choice.default


def _known(name: str, value: str, allowed) -> None:
    if value not in allowed:
        raise TallyError(f"unknown {name} {value!r} (known: {', '.join(allowed)})")


def run_rule(
    election: Election,
    rule: str = "mes",
    *,
    utility: str | None = None,
    completion: str = "none",
    tie_break: str = "lexico",
    threshold: int | None = None,
    profile: Profile | None = None,
    engine: str = "auto",
    reserve: int | None = None,
) -> Outcome:
    """Run ``rule`` on ``election`` and explain the outcome.

    ``utility``: ``cost`` (default for MES and knapsack), ``approvals`` or
    ``points``; greedy rules rank by votes unless ``points`` (their default
    on point ballots). ``completion`` (MES only): ``none``, ``greedy``,
    ``add1``, ``add1+greedy``. ``threshold`` overrides META
    ``min_project_score_threshold`` (``greedy-threshold``). ``engine`` (MES
    only): how to compute it, never what - ``auto``, ``kernel``, ``bounds``
    or ``exact`` (:mod:`pbvote.tally.mes`). ``profile`` lets a caller reuse
    a compiled election across rules. ``reserve`` (``greedy-custom`` only): the
    whole percentage of the next project's cost that must be left for the
    reserve to fund it (default 80). Raises :class:`TallyError` for a rule
    or value the engine does not know, and when the election has groups of
    mutually exclusive projects the rule does not honour (only
    ``greedy-exclusive`` does).
    """
    if rule not in RULES:
        raise TallyError(f"unknown rule {rule!r} (known: {', '.join(RULES)})")
    spec = RULES[rule]
    if utility is None:
        utility = _default_utility(spec, election)
    _known("utility", utility, UTILITIES)
    _known("completion", completion, COMPLETIONS)
    if completion != "none" and spec.choice("completion") is None:
        raise TallyError("completions apply to the mes rule only")
    _known("tie-break", tie_break, TIE_BREAKS)
    if engine != "auto" and engine not in spec.engines:
        raise TallyError(f"unknown engine {engine!r} for {rule} (known: "
                         f"{', '.join(spec.engines) or 'auto'})")
    if reserve is not None:
        if not spec.reserve:
            raise TallyError(f"the rule {rule} takes no reserve")
        if isinstance(reserve, bool) or not isinstance(reserve, int) or not 0 <= reserve <= 100:
            raise TallyError(f"the reserve is a whole percentage from 0 to 100, not {reserve!r}")
    if election.exclusive_groups and not spec.groups:
        honour = ", ".join(name for name, r in RULES.items() if r.groups)
        raise TallyError(
            f"this election has {len(election.exclusive_groups)} group(s) of mutually exclusive "
            f"projects, which the rule {rule} does not honour (rules that do: {honour})")
    params = Params(utility=utility, completion=completion, tie_break=tie_break,
                    threshold=threshold, engine=engine, reserve=reserve)
    started = time.perf_counter()
    if profile is None:
        profile = compile_profile(election)
    result = spec.run(profile, params)
    seconds = time.perf_counter() - started
    chosen = set(result.order)
    scores = profile.points if utility == "points" else profile.approvals
    projects = tuple(
        ProjectResult(
            id=profile.ids[c],
            cost=profile.costs[c],
            score=scores[c],
            selected=c in chosen,
            reason=result.reasons.get(c, "Funded." if c in chosen else "Not funded."),
            details=result.details.get(c, {}),
        )
        for c in range(profile.m)
    )
    # every outcome reports its utility and tie-break, and the rule's other choices
    parameters = {"utility": utility, "tie_break": tie_break}
    if spec.choice("completion") is not None:
        parameters["completion"] = completion
    if spec.threshold:
        parameters["threshold"] = threshold if threshold is not None else (profile.threshold or 0)
    for key, value in result.info.items():
        parameters[key] = _plain(value)
    return Outcome(
        rule=rule,
        parameters=parameters,
        budget=profile.budget,
        total_cost=sum(profile.costs[c] for c in result.order),
        selected=tuple(profile.ids[c] for c in result.order),
        projects=projects,
        satisfaction=satisfaction(profile, chosen),
        money_scale=election.money_scale,
        seconds=seconds,
        reserve=tuple(profile.ids[c] for c in result.reserve),
        notes=tuple(result.notes),
    )


def satisfaction(profile: Profile, chosen: set[int]) -> Satisfaction:
    """How many voters have 0, 1, 2, ... funded projects on their ballot."""
    if _np is not None and profile.groups:
        return _satisfaction_np(profile, chosen)
    # single-voter groups are counted at C speed; the others one by one
    light = Counter(chain.from_iterable(profile.light[c] for c in chosen))
    heavy: dict[int, int] = {}
    for c in chosen:
        for g, _ in profile.heavy[c]:
            heavy[g] = heavy.get(g, 0) + 1
    histogram = Counter(light.values())
    weights = profile.weights
    for g, k in heavy.items():
        histogram[k] += weights[g]
    zero = sum(weights) - sum(histogram.values())
    if zero:
        histogram[0] = zero
    voters = profile.n_voters
    return Satisfaction(
        voters=voters,
        voters_with_funded_project=voters - histogram.get(0, 0),
        histogram=tuple(sorted(histogram.items())),
    )


def _satisfaction_np(profile: Profile, chosen: set[int]) -> Satisfaction:
    """:func:`satisfaction` with numpy: funded projects per group, then a
    weighted histogram (float sums of integer weights below ``2**53``: exact)."""
    arrays = profile.cache.setdefault("supporter-arrays", {})
    counts = _np.zeros(len(profile.groups), dtype=_np.int64)
    for c in chosen:
        groups = arrays.get(c)
        if groups is None:
            groups = arrays[c] = _np.array(profile.supporters[c], dtype=_np.intp)
        counts[groups] += 1  # a project's supporters are distinct groups
    weights = profile.cache.get("group-weights")
    if weights is None:
        weights = profile.cache["group-weights"] = _np.array(profile.weights, dtype=_np.float64)
    bins = _np.bincount(counts, weights=weights)
    histogram = {k: int(v) for k, v in enumerate(bins.tolist()) if v}
    voters = profile.n_voters
    return Satisfaction(
        voters=voters,
        voters_with_funded_project=voters - histogram.get(0, 0),
        histogram=tuple(sorted(histogram.items())),
    )


def _plain(value):
    if getattr(value, "denominator", 1) != 1:
        return round(float(value), 6)
    if hasattr(value, "denominator"):
        return int(value)
    return value
