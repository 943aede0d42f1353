"""The volunteers' paper pages: their sessions, a session's page (reconciliation, tally sheet
figures), keyboard-first double entry, the voter register and the session's kiosk.

Every route needs the volunteer's abilities (:func:`role_required`), and then to work at *this*
session (assigned to it, or staff): :func:`_session` answers 403 to anyone else.  Views load,
check, call one service and return; the request commits (:mod:`pbvote.unit_of_work`).
"""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask import session as browser_session
from flask_babel import gettext as _
from flask_login import current_user, logout_user

from pbvote import unit_of_work
from pbvote.auth.models import Role, User
from pbvote.auth.session import KIOSK_KEY, role_required
from pbvote.ballots import services as ballot_services
from pbvote.ballots.kinds import kind_of
from pbvote.ballots.models import BallotChannel
from pbvote.ballots.paper import services
from pbvote.ballots.paper.forms import (
    CountsForm,
    EntryForm,
    LookupForm,
    NoteForm,
    PrintForm,
    RegisterAccountForm,
    RegisterCodeForm,
    WalkInForm,
)
from pbvote.ballots.paper.labels import paper_label
from pbvote.ballots.paper.models import PaperEntry, PaperSession, RegisterEntry, RegisterMethod, SheetOutcome
from pbvote.cycles.models import Budget
from pbvote.places.models import District
from pbvote.errors import DomainError
from pbvote.extensions import db
from pbvote.forms import EmptyForm, add_form_error, option

bp = Blueprint("paper", __name__)
bp.add_app_template_global(paper_label, "paper_label")
bp.add_app_template_filter(ballot_services.format_code, "format_access_code")


def _me() -> User:
    return current_user._get_current_object()


def _session(session_id: int) -> PaperSession:
    """The session, if the signed-in account works at it (else 403; 404 if there is none)."""
    session = db.get_or_404(PaperSession, session_id)
    services.check_works_at(_me(), session)
    return session


def _numbering(session: PaperSession) -> dict[int, list]:
    """Each budget's projects in printed order (number n is the n-th), for the reference lists."""
    return {budget.id: services.printed_order(budget) for budget in session.budgets}


# -- sessions -------------------------------------------------------------------------------------


@bp.route("/paper/sessions")
@role_required(Role.VOLUNTEER)
def my_sessions():
    return render_template("paper/my_sessions.html", sessions=services.sessions_for(_me()))


def _counts_form(rec, formdata=None) -> CountsForm:
    form = CountsForm(formdata=formdata, prefix=f"b{rec.budget.id}")
    if formdata is None and rec.counts is not None:
        for name in ("received", "issued", "spoiled", "returned"):
            form[name].data = getattr(rec.counts, name)
    elif formdata is None:
        form.received.data = rec.printed
    return form


def _render_session(session: PaperSession, status: int = 200, counts_form: tuple[int, CountsForm] | None = None):
    reconciliation = services.reconcile(session)
    forms = {rec.budget.id: _counts_form(rec) for rec in reconciliation}
    if counts_form is not None:
        forms[counts_form[0]] = counts_form[1]
    print_form = PrintForm(formdata=None)
    print_form.budget.choices = [option(b.id, b.name) for b in session.budgets]
    return render_template(
        "paper/session.html",
        session=session,
        cycle=session.cycle,
        reconciliation=reconciliation,
        balanced=services.is_balanced(reconciliation),
        counts_forms=forms,
        policy=services.policy_rules(services.paper_settings(session.cycle)),
        batches=services.session_batches(session),
        flagged=services.flagged_entries(session),
        print_form=print_form,
        close_form=NoteForm(formdata=None),
        is_staff=_me().has_role(Role.STAFF),
        outcomes=SheetOutcome,
    ), status


@bp.route("/paper/sessions/<id:session_id>")
@role_required(Role.VOLUNTEER)
def session_page(session_id: int):
    return _render_session(_session(session_id))


@bp.route("/paper/sessions/<id:session_id>/counts/<id:budget_id>", methods=["POST"])
@role_required(Role.VOLUNTEER)
def record_counts(session_id: int, budget_id: int):
    """The figures of the session's tally sheet for one budget."""
    session = _session(session_id)
    budget = db.get_or_404(Budget, budget_id)
    form = CountsForm(prefix=f"b{budget.id}")
    if form.validate_on_submit():
        try:
            services.record_counts(_me(), session, budget, received=form.received.data, issued=form.issued.data,
                                   spoiled=form.spoiled.data, returned=form.returned.data)
        except DomainError as error:
            add_form_error(form, error)
        else:
            flash(_("The tally sheet of %(budget)s is recorded.", budget=budget.name), "success")
            return redirect(url_for("paper.session_page", session_id=session.id, _anchor="reconciliation"), 303)
    return _render_session(session, 400, (budget.id, form))


@bp.route("/paper/sessions/<id:session_id>/tally-sheet")
@role_required(Role.VOLUNTEER)
def tally_sheet(session_id: int):
    """The printable tally sheet the volunteers fill in by hand at the session."""
    session = _session(session_id)
    return render_template("paper/tally_sheet.html", session=session, cycle=session.cycle,
                           reconciliation=services.reconcile(session))


# -- keying ---------------------------------------------------------------------------------------


def _render_entry(session: PaperSession, form: EntryForm, status: int = 200, result=None, ready=None):
    numbering = _numbering(session)
    read_back = None
    if result is not None:
        sheet = result.sheet
        read_back = services.read_back(result.reading, services.batch_projects(sheet.batch), sheet.budget)
    recent = services.recent_entries(_me(), session)
    numbers = {bid: {p.id: n for n, p in enumerate(projects, start=1)} for bid, projects in numbering.items()}
    form.token.data = ballot_services.new_submission_token()
    return render_template(
        "paper/entry.html",
        session=session,
        cycle=session.cycle,
        form=form,
        result=result,
        read_back=read_back,
        ready=ready,
        numbering=numbering,
        numbers=numbers,
        recent=[(entry, services.reading_of(entry)) for entry in recent],
        undo_form=EmptyForm(formdata=None),
        policy=services.policy_rules(services.paper_settings(session.cycle)),
        kind_of=kind_of,
        outcomes=SheetOutcome,
    ), status


@bp.route("/paper/sessions/<id:session_id>/entry", methods=["GET", "POST"])
@role_required(Role.VOLUNTEER)
def entry(session_id: int):
    """Key one sheet: its serial and its choices on one line; Enter saves, and the screen is ready
    for the next sheet.  A serial alone (a scanner's Enter) shows the sheet and waits for the choices."""
    session = _session(session_id)
    form = EntryForm()
    if request.method == "GET":
        return _render_entry(session, form)
    if not form.validate_on_submit():
        return _render_entry(session, form, 400)
    try:
        services.check_open(session)
        if not (form.choices.data or "").strip():
            sheet = services.sheet_of_session(session, form.serial.data)
            return _render_entry(session, form, ready=sheet)
        result = services.record_paper_entry(_me(), session, form.serial.data, form.choices.data, form.token.data)
    except DomainError as error:
        add_form_error(form, error)
        return _render_entry(session, form, 400)
    return _render_entry(session, EntryForm(formdata=None), result=result)


@bp.route("/paper/entries/<id:entry_id>/undo", methods=["POST"])
@role_required(Role.VOLUNTEER)
def undo_entry(entry_id: int):
    entry = db.get_or_404(PaperEntry, entry_id)
    session = _session(entry.session_id)
    if EmptyForm().validate_on_submit():
        try:
            sheet = services.undo_entry(_me(), entry)
        except DomainError as error:
            unit_of_work.discard()
            flash(error.message, "error")
        else:
            flash(_("Your keying of sheet %(serial)s is undone.", serial=sheet.serial), "success")
    return redirect(url_for("paper.entry", session_id=session.id), 303)


# -- register -------------------------------------------------------------------------------------


def _walk_in_form(session: PaperSession, formdata=None) -> WalkInForm:
    form = WalkInForm(formdata=formdata)
    districts = sorted({b.district.id: b.district for b in session.budgets if b.district is not None}.values(),
                       key=lambda d: d.name)
    form.district.choices = [option("", _("City-wide budgets only"))] + [option(d.id, d.name) for d in districts]
    return form


def _render_register(session: PaperSession, status: int = 200, *, registration=None, code_form=None,
                     account_form=None, walk_in_form=None, lookup=None, found=None):
    settings = services.paper_settings(session.cycle)
    return render_template(
        "paper/register.html",
        session=session,
        cycle=session.cycle,
        settings=settings,
        registration=registration,
        code_form=code_form or RegisterCodeForm(formdata=None),
        lookup_form=lookup or LookupForm(formdata=None),
        found=found,
        account_form=account_form or RegisterAccountForm(formdata=None),
        walk_in_form=walk_in_form or _walk_in_form(session),
        entries=services.session_register(session),
        counts=services.register_counts(session),
        undo_form=EmptyForm(formdata=None),
        channels=BallotChannel,
    ), status


@bp.route("/paper/sessions/<id:session_id>/register")
@role_required(Role.VOLUNTEER)
def register(session_id: int):
    """The register: the voter's letter code, or their account looked up, or a walk-in."""
    session = _session(session_id)
    lookup = LookupForm(request.args)
    found = None
    if "query" in request.args:
        if lookup.validate():
            try:
                found = services.find_residents(lookup.query.data)
            except DomainError as error:
                add_form_error(lookup, error)
        return _render_register(session, 200 if found is not None else 400, lookup=lookup, found=found)
    return _render_register(session)


def _registered(session, form_name: str, form, call):
    try:
        registration = call()
    except DomainError as error:
        add_form_error(form, error)
        return _render_register(session, 400, **{form_name: form})
    return _render_register(session, registration=registration)


@bp.route("/paper/sessions/<id:session_id>/register/code", methods=["POST"])
@role_required(Role.VOLUNTEER)
def register_code(session_id: int):
    session = _session(session_id)
    form = RegisterCodeForm()
    if not form.validate_on_submit():
        return _render_register(session, 400, code_form=form)
    return _registered(session, "code_form", form, lambda: services.register_voter(
        _me(), session, method=RegisterMethod.ACCESS_CODE, channel=BallotChannel.PAPER, code_text=form.code.data))


@bp.route("/paper/sessions/<id:session_id>/register/account", methods=["POST"])
@role_required(Role.VOLUNTEER)
def register_account(session_id: int):
    session = _session(session_id)
    form = RegisterAccountForm()
    if not form.validate_on_submit() or form.user.data is None:
        if not form.errors:
            form.form_errors.append(_("Look the resident up again."))
        return _render_register(session, 400, account_form=form)
    user = db.session.get(User, form.user.data)
    return _registered(session, "account_form", form, lambda: services.register_voter(
        _me(), session, method=RegisterMethod.ACCOUNT, channel=BallotChannel(form.channel.data), user=user))


@bp.route("/paper/sessions/<id:session_id>/register/walk-in", methods=["POST"])
@role_required(Role.VOLUNTEER)
def register_walk_in(session_id: int):
    session = _session(session_id)
    form = _walk_in_form(session, request.form)
    if not form.validate_on_submit():
        return _render_register(session, 400, walk_in_form=form)
    district = db.session.get(District, form.district.data) if form.district.data else None
    return _registered(session, "walk_in_form", form, lambda: services.register_voter(
        _me(), session, method=RegisterMethod.WALK_IN, channel=BallotChannel(form.channel.data), district=district))


@bp.route("/paper/register/<id:entry_id>/undo", methods=["POST"])
@role_required(Role.VOLUNTEER)
def undo_registration(entry_id: int):
    entry = db.get_or_404(RegisterEntry, entry_id)
    session = _session(entry.session_id)
    if EmptyForm().validate_on_submit():
        try:
            services.undo_registration(_me(), entry)
        except DomainError as error:
            unit_of_work.discard()
            flash(error.message, "error")
        else:
            flash(_("The registration is taken back."), "success")
    return redirect(url_for("paper.register", session_id=session.id), 303)


# -- the session's kiosk --------------------------------------------------------------------------


@bp.route("/paper/sessions/<id:session_id>/kiosk", methods=["GET", "POST"])
@role_required(Role.VOLUNTEER)
def open_kiosk(session_id: int):
    """Turn this device (a tablet) into the session's voting kiosk: the volunteer is signed out, each
    voter types the single-use code the register gave them, votes, sees the receipt, and "Next
    voter" leaves nothing of them on the device."""
    session = _session(session_id)
    form = EmptyForm()
    if form.validate_on_submit():
        try:
            services.check_open(session)
            services.open_session_kiosk(_me(), session)
        except DomainError as error:
            unit_of_work.discard()
            flash(error.message, "error")
            return redirect(url_for("paper.session_page", session_id=session.id), 303)
        slug = session.cycle.slug
        logout_user()
        browser_session.clear()
        browser_session[KIOSK_KEY] = slug
        flash(_("This device is now the kiosk of %(place)s. Each voter enters the code the register gave them.",
                place=session.place), "info")
        return redirect(url_for("ballots.enter_code"))
    return render_template("paper/kiosk.html", session=session, cycle=session.cycle, form=form)
