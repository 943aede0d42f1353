"""Staff pages of the results domain: a closed vote previewed under several rules, its ballots as
open data (a pabulib file), and publishing the result (or correcting it, with a reason).  Same URLs
as when they were cycle pages (``/staff/budgets/...``)."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from pbvote.auth.models import Role
from pbvote.auth.session import role_required
from pbvote.cycles.models import Budget
from pbvote.errors import DomainError
from pbvote.extensions import db
from pbvote.forms import add_form_error
from pbvote.results import publication as publishing
from pbvote.results import services
from pbvote.results.explain import explain_outcome
from pbvote.results.forms import PublishForm

bp = Blueprint("results", __name__, url_prefix="/staff")


def _export_name(budget: Budget) -> str:
    return publishing.ballots_filename(budget)


def _render_preview(budget: Budget, form: PublishForm, status: int = 200):
    previews = None
    if services.voting_closed(budget):
        previews = services.preview_budget(budget)
    proposals = {str(p.id): p for p in services.ballot_proposals(budget)}
    scores, reasons = {}, {}
    if previews and previews[0].outcome:
        own = previews[0]
        scores = {p.id: p.score for p in own.outcome.projects}
        unit = _("points") if own.parameters.get("utility") == "points" else _("votes")
        titles = {pid: proposal.title for pid, proposal in proposals.items()}
        reasons = {p.id: explain_outcome(p, own.factor, unit, budget.cycle.currency, titles)
                   for p in own.outcome.projects}
    live = publishing.live_publication(budget)
    return render_template(
        "results/preview.html", budget=budget, cycle=budget.cycle, previews=previews, proposals=proposals,
        scores=scores, reasons=reasons, recount=services.recount_command(budget, _export_name(budget)), form=form,
        live=live, versions=publishing.publications(budget),
    ), status


@bp.route("/budgets/<id:budget_id>/results")
@role_required(Role.STAFF)
def preview(budget_id: int):
    """The budget's own rule and the usual alternatives, side by side, once voting has closed."""
    budget = db.get_or_404(Budget, budget_id)
    return _render_preview(budget, PublishForm())


@bp.route("/budgets/<id:budget_id>/publish", methods=["POST"])
@role_required(Role.STAFF)
def publish(budget_id: int):
    """Publish the result under the budget's rule, or correct a published one (with a reason)."""
    budget = db.get_or_404(Budget, budget_id)
    form = PublishForm()
    if form.validate_on_submit():
        try:
            published = publishing.publish_result(budget, current_user, correction_reason=form.reason.data)
        except DomainError as error:
            add_form_error(form, error)
        else:
            flash(_("Result published (version %(version)d).", version=published.version), "success")
            return redirect(url_for("results_public.show", slug=budget.cycle.slug, budget_id=budget.id), 303)
    return _render_preview(budget, form, 400)


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
