"""Staff's paper pages: a cycle's paper overview (policy, sessions, turnout), planning sessions,
printing sheets, the discrepancy queue and a sheet's decision, conflicts, closing sessions.
Staff only (volunteers get 403)."""
from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from pbvote import unit_of_work
from pbvote.auth.models import Role, User
from pbvote.auth.session import role_required
from pbvote.ballots.kinds import kind_of
from pbvote.ballots.models import BallotChannel
from pbvote.ballots.paper import services
from pbvote.ballots.paper.forms import DecideForm, NoteForm, PrintForm, RequiredNoteForm, SessionForm, SettingsForm
from pbvote.ballots.paper.models import (
    EntryState,
    InvalidPolicy,
    PaperConflict,
    PaperSession,
    PaperSheet,
    SheetBatch,
    SheetStatus,
)
from pbvote.ballots.paper.serials import normalize_serial, qr_svg
from pbvote.cycles.models import Budget, Cycle
from pbvote.proposals.services import exclusions
from pbvote.errors import DomainError, InvalidInput
from pbvote.extensions import db
from pbvote.forms import add_form_error, option, utc_value
from pbvote.timeutil import utc_to_local, zone_name

bp = Blueprint("paper_staff", __name__, url_prefix="/staff")


def _me() -> User:
    return current_user._get_current_object()


def _cycle(slug: str) -> Cycle:
    return db.session.scalar(sa.select(Cycle).where(Cycle.slug == slug)) or abort(404)


# -- overview and policy --------------------------------------------------------------------------


def _render_overview(cycle: Cycle, form: SettingsForm, status: int = 200):
    sessions = services.sessions_for(_me(), cycle)
    return render_template(
        "paper/staff/overview.html",
        cycle=cycle,
        form=form,
        started=services.paper_started(cycle),
        sessions=[(s, services.is_balanced(services.reconcile(s))) for s in sessions],
        queue=len(services.sheets_for_staff(cycle.id)),
        conflicts=services.cycle_conflicts(cycle),
        turnout=services.turnout(cycle),
        policy=services.policy_rules(services.paper_settings(cycle)),
        channels=BallotChannel,
    ), status


@bp.route("/cycles/<slug>/paper", methods=["GET", "POST"])
@role_required(Role.STAFF)
def overview(slug: str):
    cycle = _cycle(slug)
    settings = services.paper_settings(cycle)
    form = SettingsForm()
    if request.method == "GET":
        form.invalid_policy.data = settings.invalid_policy.value
        form.policy_note.data = settings.policy_note
        form.walk_ins.data = settings.walk_ins
    elif form.validate_on_submit():
        try:
            services.save_settings(_me(), cycle, invalid_policy=InvalidPolicy(form.invalid_policy.data),
                                   policy_note=form.policy_note.data or "", walk_ins=form.walk_ins.data)
        except DomainError as error:
            add_form_error(form, error)
        else:
            flash(_("The paper settings are saved."), "success")
            return redirect(url_for("paper_staff.overview", slug=cycle.slug), 303)
    return _render_overview(cycle, form, 400 if form.errors or form.form_errors else 200)


# -- sessions -------------------------------------------------------------------------------------


def _session_form(cycle: Cycle, session: PaperSession | None = None) -> SessionForm:
    form = SessionForm(obj=session) if request.method == "GET" and session is not None else SessionForm()
    form.budgets.choices = [option(b.id, b.name) for b in cycle.budgets]
    form.volunteers.choices = [option(u.id, f"{u.display_name} ({u.email})") for u in services.volunteer_candidates()]
    zone = zone_name(cycle)
    form.starts_at.label.text = _("Starts (%(zone)s)", zone=zone)
    form.ends_at.label.text = _("Ends (%(zone)s)", zone=zone)
    if request.method == "GET" and session is not None:
        form.budgets.data = [b.id for b in session.budgets]
        form.volunteers.data = [u.id for u in session.volunteers]
        form.starts_at.data = utc_to_local(session.starts_at, zone).replace(tzinfo=None)
        form.ends_at.data = utc_to_local(session.ends_at, zone).replace(tzinfo=None)
    return form


def _details(form: SessionForm, cycle: Cycle) -> dict:
    budgets = [b for b in cycle.budgets if b.id in set(form.budgets.data or [])]
    wanted = set(form.volunteers.data or [])
    volunteers = list(db.session.scalars(sa.select(User).where(User.id.in_(wanted)))) if wanted else []
    zone = zone_name(cycle)
    return {"place": form.place.data, "address": form.address.data or "", "starts_at": utc_value(form.starts_at, zone),
            "ends_at": utc_value(form.ends_at, zone), "notes": form.notes.data or "", "budgets": budgets, "volunteers": volunteers}


@bp.route("/cycles/<slug>/paper/sessions/new", methods=["GET", "POST"])
@role_required(Role.STAFF)
def new_session(slug: str):
    cycle = _cycle(slug)
    form = _session_form(cycle)
    if form.validate_on_submit():
        try:
            session = services.create_session(_me(), cycle, **_details(form, cycle))
        except DomainError as error:
            add_form_error(form, error)
        else:
            flash(_("The session at %(place)s is planned.", place=session.place), "success")
            return redirect(url_for("paper.session_page", session_id=session.id), 303)
    status = 400 if form.errors or form.form_errors else 200
    return render_template("paper/staff/session_form.html", cycle=cycle, form=form, session=None), status


@bp.route("/paper/sessions/<id:session_id>/edit", methods=["GET", "POST"])
@role_required(Role.STAFF)
def edit_session(session_id: int):
    session = db.get_or_404(PaperSession, session_id)
    form = _session_form(session.cycle, session)
    if request.method == "POST" and form.validate_on_submit():
        try:
            services.update_session(_me(), session, **_details(form, session.cycle))
        except DomainError as error:
            add_form_error(form, error)
        else:
            flash(_("The session is saved."), "success")
            return redirect(url_for("paper.session_page", session_id=session.id), 303)
    status = 400 if form.errors or form.form_errors else 200
    return render_template("paper/staff/session_form.html", cycle=session.cycle, form=form, session=session), status


@bp.route("/paper/sessions/<id:session_id>/close", methods=["POST"])
@role_required(Role.STAFF)
def close_session(session_id: int):
    session = db.get_or_404(PaperSession, session_id)
    form = NoteForm()
    if form.validate_on_submit():
        try:
            services.close_session(_me(), session, form.note.data)
        except DomainError as error:
            unit_of_work.discard()
            flash(error.message, "error")
        else:
            flash(_("The session is closed."), "success")
    return redirect(url_for("paper.session_page", session_id=session.id, _anchor="close"), 303)


@bp.route("/paper/sessions/<id:session_id>/reopen", methods=["POST"])
@role_required(Role.STAFF)
def reopen_session(session_id: int):
    session = db.get_or_404(PaperSession, session_id)
    form = NoteForm()
    if form.validate_on_submit():
        try:
            services.reopen_session(_me(), session, form.note.data)
        except DomainError as error:
            unit_of_work.discard()
            flash(error.message, "error")
        else:
            flash(_("The session is open again."), "success")
    return redirect(url_for("paper.session_page", session_id=session.id, _anchor="close"), 303)


# -- printing -------------------------------------------------------------------------------------


@bp.route("/paper/sessions/<id:session_id>/sheets", methods=["POST"])
@role_required(Role.STAFF)
def print_sheets(session_id: int):
    """Generate a batch of serial-numbered sheets, then show it for printing."""
    session = db.get_or_404(PaperSession, session_id)
    form = PrintForm()
    form.budget.choices = [option(b.id, b.name) for b in session.budgets]
    if form.validate_on_submit():
        budget = db.session.get(Budget, form.budget.data) if form.budget.data else None
        try:
            if budget is None:
                raise InvalidInput(_("Choose a budget."), field="budget")
            batch = services.generate_sheets(_me(), session, budget, form.count.data)
        except DomainError as error:
            unit_of_work.discard()
            flash(error.message, "error")
        else:
            flash(_("%(n)d sheets are ready to print.", n=batch.size), "success")
            return redirect(url_for("paper_staff.batch", batch_id=batch.id), 303)
    else:
        for errors in form.errors.values():
            for message in errors:
                flash(message, "error")
    return redirect(url_for("paper.session_page", session_id=session.id, _anchor="sheets"), 303)


@bp.route("/paper/batches/<id:batch_id>")
@role_required(Role.STAFF)
def batch(batch_id: int):
    """A batch's sheets, one A4 page each (print with the browser; no external service)."""
    batch = db.get_or_404(SheetBatch, batch_id)
    budget, session = batch.budget, batch.session
    projects = services.batch_projects(batch)
    kind = kind_of(budget)
    sheets = services.batch_sheets(batch)
    numbers = {project.id: position for position, project in enumerate(projects, start=1)}
    # projects of which only one can be built: the sheet names the others by their numbers
    exclusive = {
        pid: (sorted(numbers[other.id] for other in exclusion.others if other.id in numbers), exclusion.group.name)
        for pid, exclusion in exclusions(budget).items() if pid in numbers
    }
    return render_template(
        "paper/staff/batch.html",
        exclusive=exclusive,
        batch=batch,
        budget=budget,
        session=session,
        cycle=session.cycle,
        projects=projects,
        kind=kind,
        rules=kind.rules(budget, len(projects)),
        policy=services.policy_rules(services.paper_settings(session.cycle)),
        sheets=[(sheet, qr_svg(sheet.serial)) for sheet in sheets],
    )


# -- the discrepancy queue ------------------------------------------------------------------------


@bp.route("/cycles/<slug>/paper/discrepancies")
@role_required(Role.STAFF)
def discrepancies(slug: str):
    """Sheets whose two keyings differ, and sheets referred to staff; a sheet found by its serial."""
    cycle = _cycle(slug)
    serial = normalize_serial(request.args.get("serial"))[:16]
    if serial:
        sheet = db.session.scalar(sa.select(PaperSheet).where(PaperSheet.serial == serial))
        if sheet is not None and sheet.session.cycle_id == cycle.id:
            return redirect(url_for("paper_staff.sheet", sheet_id=sheet.id), 303)
        flash(_("No sheet of this cycle has the serial number %(serial)s.", serial=serial), "error")
    queue = services.sheets_for_staff(cycle.id)
    return render_template("paper/staff/discrepancies.html", cycle=cycle, queue=queue,
                           entries={s.id: services.active_keyings(s) for s in queue})


def _render_sheet(sheet: PaperSheet, form: DecideForm, status: int = 200):
    projects = services.batch_projects(sheet.batch)
    entries = services.sheet_entries(sheet)
    shown = [(e, services.read_back(services.reading_of(e), projects, sheet.budget)) for e in entries]
    keyings = [(e, rb) for e, rb in shown if e.slot is not None and e.state == EntryState.ACTIVE]
    # The marks one keying has and the other has not: highlighted side by side.
    marks = [set(rb.reading.choices) for _e, rb in keyings]
    differing = set.union(*marks) - set.intersection(*marks) if len(marks) == 2 else set()
    return render_template(
        "paper/staff/sheet.html",
        sheet=sheet,
        session=sheet.session,
        cycle=sheet.session.cycle,
        budget=sheet.budget,
        projects=projects,
        keyings=keyings,
        differing=differing,
        others=[(e, rb) for e, rb in shown if e.slot is None or e.state != EntryState.ACTIVE],
        form=form,
        kind=kind_of(sheet.budget),
        statuses=SheetStatus,
    ), status


@bp.route("/paper/sheets/<id:sheet_id>", methods=["GET", "POST"])
@role_required(Role.STAFF)
def sheet(sheet_id: int):
    """One sheet: its keyings side by side with its serial, every other entry, and staff's decision."""
    sheet = db.get_or_404(PaperSheet, sheet_id)
    form = DecideForm()
    if form.validate_on_submit():
        try:
            services.decide_sheet(_me(), sheet, form.choices.data, form.note.data)
        except DomainError as error:
            add_form_error(form, error)
        else:
            flash(_("Sheet %(serial)s is decided.", serial=sheet.serial), "success")
            return redirect(url_for("paper_staff.discrepancies", slug=sheet.session.cycle.slug), 303)
    status = 400 if form.errors or form.form_errors else 200
    return _render_sheet(sheet, form, status)


# -- conflicts ------------------------------------------------------------------------------------


@bp.route("/cycles/<slug>/paper/conflicts")
@role_required(Role.STAFF)
def conflicts(slug: str):
    cycle = _cycle(slug)
    return render_template("paper/staff/conflicts.html", cycle=cycle, conflicts=services.cycle_conflicts(cycle),
                           form=RequiredNoteForm(formdata=None))


@bp.route("/paper/conflicts/<id:conflict_id>/review", methods=["POST"])
@role_required(Role.STAFF)
def review_conflict(conflict_id: int):
    conflict = db.get_or_404(PaperConflict, conflict_id)
    cycle = db.session.get(Cycle, conflict.cycle_id)
    form = RequiredNoteForm()
    if form.validate_on_submit():
        try:
            services.review_conflict(_me(), conflict, form.note.data)
        except DomainError as error:
            unit_of_work.discard()
            flash(error.message, "error")
        else:
            flash(_("The conflict is marked as reviewed."), "success")
    else:
        flash(_("Say what was done."), "error")
    return redirect(url_for("paper_staff.conflicts", slug=cycle.slug), 303)

