"""Staff pages that set a cycle up: settings, phases, budgets with their rules, categories.

Thin: load, check the role, validate, call one service, return; the request commits once, or rolls
back on an error response (:mod:`pbvote.unit_of_work`).  The cycle's public page is a site page
(:mod:`pbvote.views`: it shows proposals too); the results preview and the ballots' export are the
results domain's (:mod:`pbvote.results.views`).
"""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from pbvote import unit_of_work
from pbvote.auth.models import Role
from pbvote.auth.session import role_required
from pbvote.cycles import services
from pbvote.cycles.forms import BudgetForm, CategoryForm, CycleForm, PhasesForm
from pbvote.cycles.labels import PHASE_LABELS, phase_label
from pbvote.cycles.models import PHASE_ORDER, Budget, Category, Cycle, PhaseKind
from pbvote.errors import DomainError, InvalidInput
from pbvote.extensions import db
from pbvote.forms import EmptyForm, add_form_error, utc_value
from pbvote.money import from_minor_units, to_minor_units
from pbvote.places.services import get_district, list_districts
from pbvote.timeutil import utc_to_local, zone_name, zone_names

staff_bp = Blueprint("cycles_staff", __name__, url_prefix="/staff")
staff_bp.add_app_template_global(phase_label, "phase_label")


# -- staff ----------------------------------------------------------------------------------------


def _me():
    return current_user._get_current_object()


def _cycle_values(form: CycleForm) -> dict:
    return {name: getattr(form, name).data for name in services.CYCLE_FIELDS}


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
            add_form_error(form, error)
        else:
            flash(_("Cycle created. Now set its phases, budgets and categories."), "success")
            return redirect(url_for("cycles_staff.edit_cycle", cycle_id=cycle.id))
    return render_template("cycles/staff/new.html", form=form, zone_names=zone_names()), 400 if form.errors or form.form_errors else 200


def _phases_form(cycle: Cycle, formdata=None) -> PhasesForm:
    """The phase dates form, in the cycle's time zone (its labels name the zone)."""
    form = PhasesForm(formdata=formdata, prefix="phases")
    zone = zone_name(cycle)
    for kind in PHASE_ORDER:
        label = PHASE_LABELS[kind]
        getattr(form, f"{kind.value}_start").label.text = _("%(phase)s starts (%(zone)s)", phase=label, zone=zone)
        getattr(form, f"{kind.value}_end").label.text = _("%(phase)s ends (%(zone)s)", phase=label, zone=zone)
    if formdata is None:
        for phase in cycle.phases:
            getattr(form, f"{phase.kind.value}_start").data = utc_to_local(phase.starts_at, zone).replace(tzinfo=None)
            getattr(form, f"{phase.kind.value}_end").data = utc_to_local(phase.ends_at, zone).replace(tzinfo=None)
    return form


def _phase_moment(field, zone: str):
    """A phase field's time in ``zone`` as naive UTC (:func:`pbvote.forms.utc_value`); a time the
    zone skips is an error on the field (then None)."""
    try:
        return utc_value(field, zone)
    except InvalidInput as error:
        field.errors.append(error.message)
        return None


def _render_cycle(cycle: Cycle, form=None, phases_form=None, category_form=None, status=200):
    if form is None:
        form = CycleForm(obj=cycle, formdata=None)
        form.district_eligibility.data = cycle.district_eligibility.value
    return render_template(
        "cycles/staff/edit.html", cycle=cycle, form=form, zone_names=zone_names(),
        phases_form=phases_form or _phases_form(cycle),
        category_form=category_form or CategoryForm(formdata=None, prefix="category"),
        button_form=EmptyForm(), frozen=services.is_frozen(cycle),
        next_phase=services.next_phase(cycle), phase_order=PHASE_ORDER, current_phase=cycle.current_phase(),
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
                add_form_error(form, error)
            else:
                flash(_("Settings saved."), "success")
                return redirect(url_for("cycles_staff.edit_cycle", cycle_id=cycle.id))
        return _render_cycle(cycle, form=form, status=400)
    return _render_cycle(cycle, form=form)


@staff_bp.route("/cycles/<id:cycle_id>/phases", methods=["POST"])
@role_required(Role.STAFF)
def set_phases(cycle_id: int):
    cycle = db.get_or_404(Cycle, cycle_id)
    form = _phases_form(cycle, formdata=request.form)
    if form.validate():
        windows = {}
        zone = zone_name(cycle)
        for kind in PHASE_ORDER:
            start = _phase_moment(getattr(form, f"{kind.value}_start"), zone)
            end = _phase_moment(getattr(form, f"{kind.value}_end"), zone)
            windows[kind] = None if start is None and end is None else (start, end)
        if form.errors:
            return _render_cycle(cycle, phases_form=form, status=400)
        try:
            services.set_phases(_me(), cycle, windows)
        except DomainError as error:
            target = getattr(form, f"{error.field}_start", None) if error.field else None
            (target.errors.append(error.message) if target is not None else form.form_errors.append(error.message))
        else:
            flash(_("Phase dates saved."), "success")
            return redirect(url_for("cycles_staff.edit_cycle", cycle_id=cycle.id))
    return _render_cycle(cycle, phases_form=form, status=400)


@staff_bp.route("/cycles/<id:cycle_id>/advance", methods=["GET", "POST"])
@role_required(Role.STAFF)
def advance_phase(cycle_id: int):
    """Start the next phase now, after a confirmation page that says what ends and what starts
    early (the GET); the POST does it."""
    cycle = db.get_or_404(Cycle, cycle_id)
    form = EmptyForm()
    upcoming = services.next_phase(cycle)
    if request.method == "GET":
        if upcoming is None:
            flash(_("There is no later phase to move to. Add one in the phase dates first."), "error")
            return redirect(url_for("cycles_staff.edit_cycle", cycle_id=cycle.id))
        return render_template(
            "cycles/staff/advance.html", cycle=cycle, form=form, current=cycle.current_phase(), upcoming=upcoming,
            voting=PhaseKind.VOTING,
        )
    if not form.validate_on_submit():
        abort(400)
    try:
        phase = services.advance_phase(_me(), cycle)
    except DomainError as error:
        unit_of_work.discard()
        flash(error.message, "error")
    else:
        flash(_("%(phase)s has started.", phase=PHASE_LABELS[phase.kind]), "success")
    return redirect(url_for("cycles_staff.edit_cycle", cycle_id=cycle.id)), 303


def _budget_form(cycle: Cycle, budget: Budget | None = None) -> BudgetForm:
    form = BudgetForm(obj=budget)
    form.district.choices = [("", _("City-wide"))] + [(d.id, d.name) for d in list_districts()]
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
        "district": get_district(form.district.data),
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
        else:
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
        unit_of_work.discard()
        flash(error.message, "error")
    else:
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
            add_form_error(form, error)
        else:
            flash(_("Category added."), "success")
            return redirect(url_for("cycles_staff.edit_cycle", cycle_id=cycle.id))
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
        unit_of_work.discard()
        flash(error.message, "error")
    else:
        flash(_("Category removed."), "success")
    return redirect(url_for("cycles_staff.edit_cycle", cycle_id=cycle_id)), 303
