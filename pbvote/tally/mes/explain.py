"""Why each project was or was not funded by MES, from one exact run.

:func:`explained_run` gives a run at a share whose rounds (exact payment
per unit of utility) and money left are exact: on integer bounds with exact
payments (:class:`.bounds.BoundRun` with ``exact_rounds``) when every
decision and every payment split is certain there, else the exact rational
run. :func:`explain` turns it into details and one sentence per project.
"""

from __future__ import annotations

from ..profile import Q
from ..rules.base import Params, RuleResult, plain_number
from .exact import Run
from .support import Setup

try:
    from .bounds import BoundRun
except ImportError:  # pragma: no cover - depends on the environment
    BoundRun = None


def explained_run(setup: Setup, t, bounds: bool):
    """``(order, run)``: one MES run at share ``t`` with exact ``rounds`` and
    ``money_left_all``; on integer bounds first when ``bounds`` (and numpy)."""
    if bounds and BoundRun is not None:
        run = BoundRun(setup, t, exact_rounds=True)
        order = run.run(setup.free, setup.alive)
        if order is not None and run.explained() is not None:
            return order, run
    run = Run(setup, t)
    return run.run(setup.free, setup.alive), run


def explain(setup: Setup, params: Params, order: list[int], run) -> RuleResult:
    """Details and reasons for every project, from the run that funded ``order``
    (``None`` when there are no voters)."""
    details, reasons = {}, {}
    profile, free = setup.profile, set(setup.free)
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
            details[c] = {"round": rd["round"], "effective_votes": plain_number(eff),
                          "max_payment": plain_number(rd["r"])}
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
        details[c] = {"supporters_can_pay": plain_number(can_pay), "cost": costs[c]}
        if c in chosen:
            continue
        # MES ends only when no project is affordable (checked exactly in the run)
        reasons[c] = (f"Not funded: its supporters had only {profile.money(can_pay)} left of their "
                      f"shares, less than its cost {profile.money(costs[c])}.")
    return RuleResult(list(order), details, reasons)
