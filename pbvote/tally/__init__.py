"""pbvote's tally engine: ballots in, funded projects and reasons out.

Pure Python (standard library; gmpy2 is used for exact rationals when
installed). No Flask, no database: the web app, the CLI and the tests all
call :func:`run_rule`::

    from pbvote.tally import run_rule, pabulib
    election = pabulib.load_election("Poland_Swiecie_2023.pb")
    outcome = run_rule(election, "mes", utility="cost", completion="add1")
    outcome.selected          # project ids in selection order
    outcome.projects[0].reason

Rules (see :data:`RULES`): ``greedy``, ``greedy-no-skip``,
``greedy-threshold``, ``greedy-per-cost`` (value for money), ``knapsack``,
``mes`` and ``phragmen``. Tie-breaks: ``lexico`` (smallest project id in
string order) and ``equalshares`` (lowest cost, then most votes, then id).
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
from .rules import RULES
from .rules.base import COMPLETIONS, Params

__all__ = [
    "Ballot", "Election", "FrozenMap", "Outcome", "Project", "ProjectResult", "Satisfaction",
    "RULES", "UTILITIES", "COMPLETIONS", "TIE_BREAKS", "FILE_RULES", "MONEY_PARAMETERS", "TallyError",
    "group_ballots", "run_rule", "rule_for_file", "satisfaction",
]

# pabulib META ``rule`` values -> (rule, options)
FILE_RULES = {
    "greedy": ("greedy", {}),
    "greedy-no-skip": ("greedy-no-skip", {}),
    "greedy-threshold": ("greedy-threshold", {}),
    "equalshares": ("mes", {"utility": "cost", "completion": "none"}),
    "equalshares/add1": ("mes", {"utility": "cost", "completion": "add1"}),
}

# Outcome.parameters that are amounts in the smallest unit (like Outcome.budget):
# divide by Outcome.money_scale to show them in the currency unit
MONEY_PARAMETERS = frozenset({"per_voter_share", "final_per_voter_share"})


class TallyError(ValueError):
    """A rule or parameter the engine does not know."""


def rule_for_file(meta_rule: str) -> tuple[str, dict]:
    """Map a pabulib META ``rule`` to ``(rule name, options)``."""
    try:
        return FILE_RULES[meta_rule.strip()]
    except KeyError:
        raise TallyError(f"the file's rule {meta_rule!r} is not implemented "
                         f"(known: {', '.join(FILE_RULES)})") from None


def run_rule(
    election: Election,
    rule: str = "mes",
    *,
    utility: str | None = None,
    completion: str = "none",
    tie_break: str = "lexico",
    threshold: int | None = None,
    profile: Profile | None = None,
) -> Outcome:
    """Run ``rule`` on ``election`` and explain the outcome.

    ``utility``: ``cost`` (default for MES and knapsack), ``approvals`` or
    ``points``; greedy rules rank by votes unless ``points``.
    ``completion`` (MES only): ``none``, ``greedy``, ``add1``, ``add1+greedy``.
    ``threshold`` overrides META ``min_project_score_threshold``.
    ``profile`` lets a caller reuse a compiled election across rules.
    """
    if rule not in RULES:
        raise TallyError(f"unknown rule {rule!r} (known: {', '.join(RULES)})")
    if utility is None:
        utility = "points" if (rule.startswith("greedy") and election.vote_type in
                               ("cumulative", "scoring", "ordinal")) else "cost"
    if utility not in UTILITIES:
        raise TallyError(f"unknown utility {utility!r} (known: {', '.join(UTILITIES)})")
    if completion not in COMPLETIONS:
        raise TallyError(f"unknown completion {completion!r} (known: {', '.join(COMPLETIONS)})")
    if completion != "none" and rule != "mes":
        raise TallyError("completions apply to the mes rule only")
    if tie_break not in TIE_BREAKS:
        raise TallyError(f"unknown tie-break {tie_break!r} (known: {', '.join(TIE_BREAKS)})")
    params = Params(utility=utility, completion=completion, tie_break=tie_break, threshold=threshold)
    started = time.perf_counter()
    if profile is None:
        profile = compile_profile(election)
    result = RULES[rule](profile, params)
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
    parameters = {"utility": utility, "tie_break": tie_break}
    if rule == "mes":
        parameters["completion"] = completion
    if rule == "greedy-threshold":
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
