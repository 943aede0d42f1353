"""Counting a budget: its countable ballots, through the pure tally engine, into explained outcomes.

The engine's input comes from :mod:`pbvote.results.counting` (every channel's countable ballots as
plain rows, kept while they hold); the same :class:`~pbvote.tally.Election` feeds the staff preview
(several rules side by side) and the open-data export (a pabulib file from which
``pbvote tally FILE --rule from-file`` reproduces the result).  Nothing here is shown before
voting has closed, so that interim results steer no one.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from flask_babel import gettext as _

from pbvote import tally
from pbvote.cycles.models import Budget
from pbvote.errors import PhaseClosed
from pbvote.proposals.services import ballot_proposals
from pbvote.results.counting import counted_election, counting_election, election_for_budget, file_rule
from pbvote.tally import pabulib

__all__ = [
    "ALTERNATIVES", "RulePreview", "ballot_proposals", "counting_election", "election_for_budget",
    "export_pabulib", "file_rule", "preview_budget", "recount_command", "run_budget_rule", "voting_closed",
]

#: The rules shown beside the budget's own rule in the preview: (label, rule, parameters).
ALTERNATIVES = (
    ("Greedy (most votes first)", "greedy", {"tie_break": "equalshares"}),
    ("Method of Equal Shares", "mes", {"utility": "cost", "completion": "add1+greedy", "tie_break": "equalshares"}),
    ("Optimal knapsack", "knapsack", {"tie_break": "equalshares"}),
    ("Sequential Phragmén", "phragmen", {"tie_break": "equalshares"}),
)


def recount_command(budget: Budget, filename: str = "FILE.pb") -> str:
    """The one command that recounts an exported budget with its own rule and parameters."""
    params = budget.tally_params or {}
    parts = ["pbvote tally", filename, "--rule", budget.tally_rule]
    for name in ("utility", "completion", "tie_break"):
        if params.get(name):
            parts += [f"--{name.replace('_', '-')}", str(params[name])]
    return " ".join(parts)


@dataclass(frozen=True)
class RulePreview:
    label: str
    rule: str
    parameters: dict
    outcome: tally.Outcome | None
    error: str | None = None
    is_budget_rule: bool = False
    #: the outcome's amounts times this are in the currency's smallest unit
    factor: int = 1

    @property
    def total_amount(self) -> int | None:
        return None if self.outcome is None else self.outcome.total_cost * self.factor


def run_budget_rule(budget: Budget, election: tally.Election | None = None) -> tally.Outcome:
    """The outcome of the budget's own tally rule on its countable ballots (amounts as in its
    ballot file: see :func:`counting_election`)."""
    election, _factor = counting_election(election) if election is not None else counted_election(budget)
    return tally.run_rule(election, budget.tally_rule, **(budget.tally_params or {}))


def voting_closed(budget: Budget, now: datetime | None = None) -> bool:
    """True once the voting phase of the budget's cycle has ended (by ``now``)."""
    return budget.cycle.voting_has_closed(now)


def preview_budget(budget: Budget, now: datetime | None = None) -> list[RulePreview]:
    """The budget's own rule and the usual alternatives, side by side, on the same ballots.

    Only once voting has closed: interim results must not steer anyone while people still vote.
    The election comes from :func:`~pbvote.results.counting.counted_election` (read once, kept
    while the countable ballots are unchanged), its profile is compiled once for every rule, and
    a rule the budget's own rule repeats (same rule, same parameters) runs once.
    """
    if not voting_closed(budget, now):
        raise PhaseClosed(_("Results can be previewed once voting has closed."))
    election, factor = counted_election(budget)
    profile = tally.compile_profile(election)  # compiled once, shared by every rule
    previews = []
    runs = [(_("This budget's rule"), budget.tally_rule, dict(budget.tally_params or {}), True)]
    runs += [(_(label), rule, dict(params), False) for label, rule, params in ALTERNATIVES]
    done: dict[tuple, tuple[tally.Outcome | None, str | None]] = {}
    ungrouped = None  # the election without its groups, for the comparison rules that ignore them
    for label, rule, params, own in runs:
        key = (rule, tuple(sorted(params.items())))
        if key not in done:
            counted, counted_profile = election, profile
            if election.exclusive_groups and not own and not getattr(tally.RULES.get(rule), "groups", False):
                # a comparison rule that knows no groups of mutually exclusive projects: shown as it
                # would count without them, and said so (the budget's own rule honours them)
                if ungrouped is None:
                    ungrouped = replace(election, exclusive_groups=())
                    ungrouped = (ungrouped, tally.compile_profile(ungrouped))
                counted, counted_profile = ungrouped
                label = _("%(rule)s, ignoring the groups of projects that cannot all be built", rule=label)
            try:
                done[key] = (tally.run_rule(counted, rule, profile=counted_profile, **params), None)
            except (tally.TallyError, ValueError) as error:
                done[key] = (None, str(error))
        outcome, error = done[key]
        previews.append(RulePreview(label, rule, params, outcome, error, own, factor))
    return previews


def export_pabulib(budget: Budget, now: datetime | None = None) -> str:
    """The budget's anonymous ballots and projects as a pabulib ``.pb`` file (open data).

    Ballots carry no voter, time or channel; identical ballots are written once per voter with
    sequential ids.  Available once voting has closed.
    """
    if not voting_closed(budget, now):
        raise PhaseClosed(_("The ballots can be exported once voting has closed."))
    return pabulib.dumps(pabulib.from_election(counted_election(budget)[0]))
