"""Counting a budget: its countable ballots, through the pure tally engine, into explained outcomes.

This is the one bridge between the database and :mod:`pbvote.tally`: every channel's ballots
(online now, paper next) come from :func:`pbvote.ballots.services.countable_ballots`, the projects
from :func:`pbvote.proposals.services.ballot_proposals`, and the same :class:`~pbvote.tally.Election`
feeds the staff preview (several rules side by side) and the open-data export (a pabulib file from
which ``pbvote tally FILE --rule from-file`` reproduces the result).  Nothing here is shown before
voting has closed, so that interim results steer no one.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from babel.numbers import get_currency_precision
from flask_babel import gettext as _

from pbvote import tally
from pbvote.ballots.kinds import kind_of
from pbvote.ballots.services import countable_ballot_contents
from pbvote.cycles.models import Budget
from pbvote.errors import PhaseClosed
from pbvote.proposals.services import ballot_proposals, tally_groups
from pbvote.tally import pabulib

#: The rules shown beside the budget's own rule in the preview: (label, rule, parameters).
ALTERNATIVES = (
    ("Greedy (most votes first)", "greedy", {"tie_break": "equalshares"}),
    ("Method of Equal Shares", "mes", {"utility": "cost", "completion": "add1+greedy", "tie_break": "equalshares"}),
    ("Optimal knapsack", "knapsack", {"tie_break": "equalshares"}),
    ("Sequential Phragmén", "phragmen", {"tie_break": "equalshares"}),
)


def election_for_budget(budget: Budget) -> tally.Election:
    """The budget's projects and countable ballots as the engine's exact, immutable input."""
    proposals = ballot_proposals(budget)
    on_ballot = {proposal.id for proposal in proposals}
    projects = tuple(
        tally.Project(
            id=str(p.id),
            cost=p.ballot_amount,
            name=p.title,
            category=p.category.name if p.category else "",
        )
        for p in proposals
    )
    kind = kind_of(budget)
    ballots = []
    # plain values, identical ballots counted by the database (the ORM objects of 90,000
    # ballots cost ~10 s): each distinct ballot becomes one engine ballot with its weight
    for contents, weight in countable_ballot_contents(budget):
        choices = [choice for choice in contents if choice.proposal_id in on_ballot]
        if choices:
            ballot = kind.engine_ballot(choices)
            ballots.append(replace(ballot, weight=weight) if weight != 1 else ballot)
    precision = get_currency_precision(budget.cycle.currency)
    cycle = budget.cycle
    return tally.Election(
        budget=budget.total_amount,
        projects=projects,
        ballots=tally.group_ballots(ballots),
        vote_type=kind.vote_type,
        money_scale=10**precision,
        min_length=budget.min_choices or None,
        max_length=budget.max_choices,
        max_sum_points=kind.max_sum_points(budget),
        min_project_score_threshold=(budget.tally_params or {}).get("threshold"),
        exclusive_groups=tally_groups(budget),
        meta={
            "description": f"{cycle.name}: {budget.name}",
            "unit": budget.district.name if budget.district else cycle.name,
            "instance": cycle.slug,
            "currency": cycle.currency,
            "rule": file_rule(budget),
            "pbvote_rule": budget.tally_rule,
            "pbvote_parameters": ";".join(f"{k}={v}" for k, v in sorted((budget.tally_params or {}).items())),
        },
    )


def counting_election(election: tally.Election) -> tuple[tally.Election, int]:
    """The election as its ballot file states it, and the factor back to the currency's smallest unit.

    Amounts are divided by the largest power of ten that divides them all (a city's whole-euro
    costs count in euros, not cents): exactly the election that ``pbvote tally`` reads back from the
    exported file.  It matters where a rule steps one money unit at a time (MES + add1 raises each
    voter's share by one unit): counted in cents, the web would take other steps than the recount,
    and be 100 times slower.  Multiply the outcome's amounts by the factor to show them.
    """
    amounts = [election.budget, *(p.cost for p in election.projects)]
    if election.max_sum_cost is not None:
        amounts.append(election.max_sum_cost)
    factor = election.money_scale
    while factor > 1 and any(amount % factor for amount in amounts):
        factor //= 10
    if factor <= 1:
        return election, 1
    return replace(
        election,
        budget=election.budget // factor,
        projects=tuple(replace(p, cost=p.cost // factor) for p in election.projects),
        money_scale=election.money_scale // factor,
        max_sum_cost=election.max_sum_cost // factor if election.max_sum_cost is not None else None,
    ), factor


def file_rule(budget: Budget) -> str:
    """The pabulib META ``rule`` naming the budget's tally rule where pabulib has a name for it."""
    params = budget.tally_params or {}
    if budget.tally_rule == "mes" and params.get("utility", "cost") == "cost":
        return {"none": "equalshares", "add1": "equalshares/add1"}.get(params.get("completion", "none"), "")
    if budget.tally_rule in ("greedy", "greedy-no-skip", "greedy-threshold", "greedy-exclusive"):
        return budget.tally_rule
    return ""


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
    election, _factor = counting_election(election or election_for_budget(budget))
    return tally.run_rule(election, budget.tally_rule, **(budget.tally_params or {}))


def voting_closed(budget: Budget, now: datetime | None = None) -> bool:
    """True once the voting phase of the budget's cycle has ended (by ``now``)."""
    return budget.cycle.voting_has_closed(now)


def preview_budget(budget: Budget, now: datetime | None = None) -> list[RulePreview]:
    """The budget's own rule and the usual alternatives, side by side, on the same ballots.

    Only once voting has closed: interim results must not steer anyone while people still vote.
    """
    if not voting_closed(budget, now):
        raise PhaseClosed(_("Results can be previewed once voting has closed."))
    election, factor = counting_election(election_for_budget(budget))
    profile = tally.compile_profile(election)  # compiled once, shared by every rule
    previews = []
    runs = [(_("This budget's rule"), budget.tally_rule, dict(budget.tally_params or {}), True)]
    runs += [(_(label), rule, params, False) for label, rule, params in ALTERNATIVES]
    for label, rule, params, own in runs:
        try:
            outcome = tally.run_rule(election, rule, profile=profile, **params)
        except (tally.TallyError, ValueError) as error:
            previews.append(RulePreview(label, rule, params, None, str(error), own, factor))
        else:
            previews.append(RulePreview(label, rule, params, outcome, None, own, factor))
    return previews


def export_pabulib(budget: Budget, now: datetime | None = None) -> str:
    """The budget's anonymous ballots and projects as a pabulib ``.pb`` file (open data).

    Ballots carry no voter, time or channel; identical ballots are written once per voter with
    sequential ids.  Available once voting has closed.
    """
    if not voting_closed(budget, now):
        raise PhaseClosed(_("The ballots can be exported once voting has closed."))
    return pabulib.dumps(pabulib.from_election(counting_election(election_for_budget(budget))[0]))
