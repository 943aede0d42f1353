"""Staff pages of the results domain: a closed vote previewed under several rules, and its ballots
as open data (a pabulib file).  Same URLs as when they were cycle pages (``/staff/budgets/...``)."""
from __future__ import annotations

from flask import Blueprint, render_template

from pbvote.auth.models import Role
from pbvote.auth.session import role_required
from pbvote.cycles.models import Budget
from pbvote.extensions import db
from pbvote.results import services

bp = Blueprint("results", __name__, url_prefix="/staff")


def _export_name(budget: Budget) -> str:
    return f"{budget.cycle.slug}-budget-{budget.id}.pb"


@bp.route("/budgets/<id:budget_id>/results")
@role_required(Role.STAFF)
def preview(budget_id: int):
    """The budget's own rule and the usual alternatives, side by side, once voting has closed."""
    budget = db.get_or_404(Budget, budget_id)
    previews = None
    if services.voting_closed(budget):
        previews = services.preview_budget(budget)
    proposals = {str(p.id): p for p in services.ballot_proposals(budget)}
    return render_template(
        "results/preview.html", budget=budget, cycle=budget.cycle, previews=previews, proposals=proposals,
        recount=services.recount_command(budget, _export_name(budget)),
    )


@bp.route("/budgets/<id:budget_id>/ballots.pb")
@role_required(Role.STAFF)
def export_ballots(budget_id: int):
    """The budget's anonymous ballots as a pabulib file: ``pbvote tally FILE --rule from-file`` recounts it."""
    budget = db.get_or_404(Budget, budget_id)
    text = services.export_pabulib(budget)
    return text, 200, {
        "Content-Type": "text/plain; charset=utf-8",
        "Content-Disposition": f'attachment; filename="{_export_name(budget)}"',
    }
