"""Cycle pages: the public cycle page, and the staff pages that set a cycle up."""
from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from pbvote.auth.models import Role
from pbvote.auth.session import public, role_required
from pbvote.cycles import services
from pbvote.cycles.forms import BudgetForm, CategoryForm, CycleForm, PhasesForm
from pbvote.cycles.models import PHASE_ORDER, Budget, Category, Cycle, District
from pbvote.errors import DomainError
from pbvote.extensions import db
from pbvote.forms import EmptyForm, add_form_error
from pbvote.money import from_minor_units, to_minor_units
from pbvote.proposals.models import PUBLIC_STATUSES, Proposal, ProposalStatus

bp = Blueprint("cycles", __name__, url_prefix="/cycles")
staff_bp = Blueprint("cycles_staff", __name__, url_prefix="/staff")


@bp.route("/<slug>")
@public
def show(slug: str):
    cycle = services.get_public_cycle(slug) or abort(404)
    proposals = db.session.scalars(
        sa.select(Proposal)
        .where(Proposal.cycle_id == cycle.id, Proposal.status.in_(PUBLIC_STATUSES))
        .order_by(Proposal.support_count.desc(), Proposal.id)
        .limit(10)
    ).all()
    return render_template(
        "cycles/show.html", cycle=cycle, overview=services.cycle_overview(cycle), proposals=proposals,
        feasible_status=ProposalStatus.FEASIBLE,
    )


# -- staff ----------------------------------------------------------------------------------------


def _me():
    return current_user._get_current_object()


def _cycle_values(form: CycleForm) -> dict:
    return {name: getattr(form, name).data for name in services.CYCLE_FIELDS}


def _failed(form, error: DomainError) -> None:
    db.session.rollback()
    add_form_error(form, error)


@staff_bp.route("/cycles")
@role_required(Role.STAFF)
def cycles():
    return render_template("cycles/staff/list.html", cycles=services.list_all_cycles())


@staff_bp.route("/cycles/new", methods=["GET", "POST"])
@role_required(Role.STAFF)
def new_cycle():
    form = CycleForm()
    if form.validate_on_submit():
        try:
            cycle = services.create_cycle(_me(), **_cycle_values(form))
        except DomainError as error:
            _failed(form, error)
        else:
            db.session.commit()
            flash(_("Cycle created. Now set its phases, budgets and categories."), "success")
            return redirect(url_for("cycles_staff.edit_cycle", cycle_id=cycle.id))
    return render_template("cycles/staff/new.html", form=form), 400 if form.errors or form.form_errors else 200


def _phases_form(cycle: Cycle, formdata=None) -> PhasesForm:
    form = PhasesForm(formdata=formdata, prefix="phases")
    if formdata is None:
        for phase in cycle.phases:
            getattr(form, f"{phase.kind.value}_start").data = phase.starts_at
            getattr(form, f"{phase.kind.value}_end").data = phase.ends_at
    return form


def _render_cycle(cycle: Cycle, form=None, phases_form=None, category_form=None, status=200):
    if form is None:
        form = CycleForm(obj=cycle, formdata=None)
        form.district_eligibility.data = cycle.district_eligibility.value
    return render_template(
        "cycles/staff/edit.html", cycle=cycle, form=form,
        phases_form=phases_form or _phases_form(cycle),
        category_form=category_form or CategoryForm(formdata=None, prefix="category"),
        button_form=EmptyForm(), frozen=services.is_frozen(cycle),
        next_phase=services.next_phase(cycle), phase_order=PHASE_ORDER,
    ), status


@staff_bp.route("/cycles/<id:cycle_id>", methods=["GET", "POST"])
@role_required(Role.STAFF)
def edit_cycle(cycle_id: int):
    cycle = db.get_or_404(Cycle, cycle_id)
    form = CycleForm(obj=cycle)
    if not form.is_submitted():
        form.district_eligibility.data = cycle.district_eligibility.value
    if form.is_submitted():
        if form.validate():
            try:
                services.update_cycle(_me(), cycle, **_cycle_values(form))
            except DomainError as error:
                _failed(form, error)
            else:
                db.session.commit()
                flash(_("Settings saved."), "success")
                return redirect(url_for("cycles_staff.edit_cycle", cycle_id=cycle.id))
        return _render_cycle(cycle, form=form, status=400)
    return _render_cycle(cycle, form=form)


@staff_bp.route("/cycles/<id:cycle_id>/phases", methods=["POST"])
@role_required(Role.STAFF)
def set_phases(cycle_id: int):
    from flask import request

    cycle = db.get_or_404(Cycle, cycle_id)
    form = _phases_form(cycle, formdata=request.form)
    if form.validate():
        windows = {}
        for kind in PHASE_ORDER:
            start = getattr(form, f"{kind.value}_start").data
            end = getattr(form, f"{kind.value}_end").data
            windows[kind] = None if start is None and end is None else (start, end)
        try:
            services.set_phases(_me(), cycle, windows)
        except DomainError as error:
            db.session.rollback()
            target = getattr(form, f"{error.field}_start", None) if error.field else None
            (target.errors.append(error.message) if target is not None else form.form_errors.append(error.message))
        else:
            db.session.commit()
            flash(_("Phase dates saved."), "success")
            return redirect(url_for("cycles_staff.edit_cycle", cycle_id=cycle.id))
    cycle = db.get_or_404(Cycle, cycle_id)
    return _render_cycle(cycle, phases_form=form, status=400)


@staff_bp.route("/cycles/<id:cycle_id>/advance", methods=["POST"])
@role_required(Role.STAFF)
def advance_phase(cycle_id: int):
    cycle = db.get_or_404(Cycle, cycle_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        phase = services.advance_phase(_me(), cycle)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        db.session.commit()
        from pbvote.labels import PHASE_LABELS

        flash(_("%(phase)s has started.", phase=PHASE_LABELS[phase.kind]), "success")
    return redirect(url_for("cycles_staff.edit_cycle", cycle_id=cycle.id)), 303


def _budget_form(cycle: Cycle, budget: Budget | None = None) -> BudgetForm:
    form = BudgetForm(obj=budget)
    districts = db.session.scalars(sa.select(District).order_by(District.name)).all()
    form.district.choices = [("", _("City-wide"))] + [(d.id, d.name) for d in districts]
    if budget is not None and not form.is_submitted():
        form.district.data = budget.district_id
        form.total.data = from_minor_units(budget.total_amount, cycle.currency)
        form.ballot_type.data = budget.ballot_type.value
        for name in ("utility", "completion", "tie_break"):
            if name in (budget.tally_params or {}):
                getattr(form, name).data = budget.tally_params[name]
    return form


def _budget_values(cycle: Cycle, form: BudgetForm) -> dict:
    return {
        "name": form.name.data,
        "position": form.position.data or 0,
        "district": db.session.get(District, form.district.data) if form.district.data else None,
        "total_amount": to_minor_units(form.total.data, cycle.currency) if form.total.data is not None else None,
        "ballot_type": form.ballot_type.data,
        "min_choices": form.min_choices.data,
        "max_choices": form.max_choices.data,
        "min_spend_percent": form.min_spend_percent.data,
        "points_total": form.points_total.data,
        "points_per_project": form.points_per_project.data,
        "tally_rule": form.tally_rule.data,
        "tally_params": {"utility": form.utility.data, "completion": form.completion.data,
                         "tie_break": form.tie_break.data},
    }


def _budget_error(form: BudgetForm, error: DomainError) -> None:
    db.session.rollback()
    mapping = {"total_amount": "total", "tally_params": "tally_rule"}
    if error.field in mapping:
        error.field = mapping[error.field]
    add_form_error(form, error)


@staff_bp.route("/cycles/<id:cycle_id>/budgets/new", methods=["GET", "POST"])
@role_required(Role.STAFF)
def new_budget(cycle_id: int):
    cycle = db.get_or_404(Cycle, cycle_id)
    form = _budget_form(cycle)
    if form.validate_on_submit():
        try:
            services.add_budget(_me(), cycle, **_budget_values(cycle, form))
        except DomainError as error:
            _budget_error(form, error)
        else:
            db.session.commit()
            flash(_("Budget added."), "success")
            return redirect(url_for("cycles_staff.edit_cycle", cycle_id=cycle.id))
    status = 400 if form.errors or form.form_errors else 200
    return render_template("cycles/staff/budget.html", cycle=cycle, budget=None, form=form), status


@staff_bp.route("/budgets/<id:budget_id>", methods=["GET", "POST"])
@role_required(Role.STAFF)
def edit_budget(budget_id: int):
    budget = db.get_or_404(Budget, budget_id)
    cycle = budget.cycle
    form = _budget_form(cycle, budget)
    if form.validate_on_submit():
        try:
            services.update_budget(_me(), budget, **_budget_values(cycle, form))
        except DomainError as error:
            _budget_error(form, error)
            budget = db.get_or_404(Budget, budget_id)
        else:
            db.session.commit()
            flash(_("Budget saved."), "success")
            return redirect(url_for("cycles_staff.edit_cycle", cycle_id=cycle.id))
    status = 400 if form.errors or form.form_errors else 200
    return render_template("cycles/staff/budget.html", cycle=budget.cycle, budget=budget, form=form,
                           delete_form=EmptyForm()), status


@staff_bp.route("/budgets/<id:budget_id>/delete", methods=["POST"])
@role_required(Role.STAFF)
def delete_budget(budget_id: int):
    budget = db.get_or_404(Budget, budget_id)
    cycle_id = budget.cycle_id
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        services.delete_budget(_me(), budget)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        db.session.commit()
        flash(_("Budget removed."), "success")
    return redirect(url_for("cycles_staff.edit_cycle", cycle_id=cycle_id)), 303


@staff_bp.route("/cycles/<id:cycle_id>/categories", methods=["POST"])
@role_required(Role.STAFF)
def add_category(cycle_id: int):
    cycle = db.get_or_404(Cycle, cycle_id)
    form = CategoryForm(prefix="category")
    if form.validate_on_submit():
        try:
            services.add_category(_me(), cycle, form.name.data)
        except DomainError as error:
            _failed(form, error)
        else:
            db.session.commit()
            flash(_("Category added."), "success")
            return redirect(url_for("cycles_staff.edit_cycle", cycle_id=cycle.id))
    cycle = db.get_or_404(Cycle, cycle_id)
    return _render_cycle(cycle, category_form=form, status=400)


@staff_bp.route("/categories/<id:category_id>/delete", methods=["POST"])
@role_required(Role.STAFF)
def delete_category(category_id: int):
    category = db.get_or_404(Category, category_id)
    cycle_id = category.cycle_id
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        services.delete_category(_me(), category)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        db.session.commit()
        flash(_("Category removed."), "success")
    return redirect(url_for("cycles_staff.edit_cycle", cycle_id=cycle_id)), 303


# -- counting -------------------------------------------------------------------------------------


@staff_bp.route("/budgets/<id:budget_id>/results")
@role_required(Role.STAFF)
def results_preview(budget_id: int):
    """The budget's own rule and the usual alternatives, side by side, once voting has closed."""
    from pbvote.cycles import results

    budget = db.get_or_404(Budget, budget_id)
    previews = None
    if results.voting_closed(budget):
        previews = results.preview_budget(budget)
    proposals = {str(p.id): p for p in results.ballot_proposals(budget)}
    return render_template(
        "cycles/staff/results_preview.html", budget=budget, cycle=budget.cycle, previews=previews, proposals=proposals,
        recount=results.recount_command(budget, f"{budget.cycle.slug}-budget-{budget.id}.pb"),
    )


@staff_bp.route("/budgets/<id:budget_id>/ballots.pb")
@role_required(Role.STAFF)
def export_ballots(budget_id: int):
    """The budget's anonymous ballots as a pabulib file: ``pbvote tally FILE --rule from-file`` recounts it."""
    from pbvote.cycles import results

    budget = db.get_or_404(Budget, budget_id)
    text = results.export_pabulib(budget)
    filename = f"{budget.cycle.slug}-budget-{budget.id}.pb"
    return text, 200, {
        "Content-Type": "text/plain; charset=utf-8",
        "Content-Disposition": f'attachment; filename="{filename}"',
    }
