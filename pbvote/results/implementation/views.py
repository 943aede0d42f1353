"""Staff pages of implementation tracking: a cycle's funded projects, and one project's status,
progress, dates, milestones, photos and pledges.  Staff and admins only; every change goes through
one service of :mod:`pbvote.results.implementation.services` (which audits it)."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from pbvote import unit_of_work
from pbvote.auth.models import Role
from pbvote.auth.session import role_required
from pbvote.cycles.models import Cycle
from pbvote.errors import DomainError
from pbvote.extensions import db
from pbvote.forms import EmptyForm, add_form_error
from pbvote.proposals.models import Pledge, Proposal
from pbvote.results.implementation import services
from pbvote.results.implementation.forms import ImplementationForm, MilestoneForm, PhotoForm, PledgeFulfilmentForm
from pbvote.results.implementation.labels import implementation_status_label, page_helpers
from pbvote.results.implementation.models import ImplementationPhoto, ImplementationStatus, Milestone

bp = Blueprint("implementation", __name__, url_prefix="/staff")
bp.add_app_template_global(implementation_status_label, "implementation_status_label")


def _funded(proposal_id: int) -> Proposal:
    """A proposal funded by a published result; 404 for any other (nothing to track)."""
    proposal = db.get_or_404(Proposal, proposal_id)
    if services.funded_line(proposal) is None:
        abort(404)
    return proposal


def _project(proposal: Proposal) -> services.FundedProject:
    return next(p for p in services.funded_projects(proposal.cycle) if p.proposal.id == proposal.id)


def _edit_url(proposal_id: int, anchor: str = "") -> str:
    return url_for("implementation.edit", proposal_id=proposal_id) + (f"#{anchor}" if anchor else "")


def _render_edit(proposal: Proposal, status: int = 200, **forms):
    project = _project(proposal)
    record = project.implementation
    form = forms.pop("form", None)
    if form is None:
        form = ImplementationForm(formdata=None, data={
            "status": project.status.value, "progress_percent": project.progress,
            "started_on": record.started_on if record else None, "expected_on": record.expected_on if record else None,
            "finished_on": record.finished_on if record else None, "public_note": record.public_note if record else "",
            "cancellation_reason": record.cancellation_reason if record else "",
        })
    milestone_forms = {
        m.id: MilestoneForm(formdata=None, prefix=f"m{m.id}", obj=m) for m in project.milestones
    }
    milestone_forms.update(forms.pop("milestone_forms", {}))
    pledge_forms = {
        p.id: PledgeFulfilmentForm(formdata=None, prefix=f"p{p.id}",
                                   data={"note": project.fulfilments[p.id].note if p.id in project.fulfilments else ""})
        for p in project.pledges
    }
    pledge_forms.update(forms.pop("pledge_forms", {}))
    return render_template(
        "implementation/edit.html", cycle=proposal.cycle, proposal=proposal, project=project, form=form,
        milestone_forms=milestone_forms, pledge_forms=pledge_forms,
        new_milestone_form=forms.pop("new_milestone_form", None) or MilestoneForm(formdata=None, prefix="new"),
        photo_form=forms.pop("photo_form", None) or PhotoForm(formdata=None, prefix="photo"),
        button_form=EmptyForm(), statuses=ImplementationStatus, **page_helpers(),
    ), status


@bp.route("/cycles/<id:cycle_id>/implementation")
@role_required(Role.STAFF)
def overview(cycle_id: int):
    """The cycle's funded projects with their status, progress, milestones and pledges."""
    cycle = db.get_or_404(Cycle, cycle_id)
    projects = services.funded_projects(cycle)
    return render_template("implementation/staff_overview.html", cycle=cycle, projects=projects,
                           summary=services.summarize(projects), statuses=ImplementationStatus)


@bp.route("/projects/<id:proposal_id>/implementation", methods=["GET", "POST"])
@role_required(Role.STAFF)
def edit(proposal_id: int):
    """Status, progress, dates and public note of a funded project (GET shows the whole project)."""
    proposal = _funded(proposal_id)
    form = ImplementationForm()
    if not form.is_submitted():
        return _render_edit(proposal)
    if form.validate():
        try:
            services.update_implementation(
                current_user, proposal, status=ImplementationStatus(form.status.data),
                progress_percent=form.progress_percent.data, started_on=form.started_on.data,
                expected_on=form.expected_on.data, finished_on=form.finished_on.data,
                public_note=form.public_note.data or "", cancellation_reason=form.cancellation_reason.data,
            )
        except DomainError as error:
            add_form_error(form, error)
        else:
            flash(_("Implementation saved."), "success")
            return redirect(_edit_url(proposal.id), 303)
    return _render_edit(proposal, 400, form=form)


@bp.route("/projects/<id:proposal_id>/milestones", methods=["POST"])
@role_required(Role.STAFF)
def add_milestone(proposal_id: int):
    proposal = _funded(proposal_id)
    form = MilestoneForm(prefix="new")
    if form.validate_on_submit():
        try:
            services.add_milestone(current_user, proposal, title=form.title.data, due_on=form.due_on.data,
                                   done_on=form.done_on.data, note=form.note.data or "")
        except DomainError as error:
            add_form_error(form, error)
        else:
            flash(_("Milestone added."), "success")
            return redirect(_edit_url(proposal.id, "milestones"), 303)
    return _render_edit(proposal, 400, new_milestone_form=form)


def _milestone(milestone_id: int) -> tuple[Milestone, Proposal]:
    milestone = db.get_or_404(Milestone, milestone_id)
    return milestone, _funded(milestone.implementation.proposal_id)


@bp.route("/milestones/<id:milestone_id>", methods=["POST"])
@role_required(Role.STAFF)
def edit_milestone(milestone_id: int):
    milestone, proposal = _milestone(milestone_id)
    form = MilestoneForm(prefix=f"m{milestone.id}")
    if form.validate_on_submit():
        try:
            services.update_milestone(current_user, milestone, title=form.title.data, due_on=form.due_on.data,
                                      done_on=form.done_on.data, note=form.note.data or "")
        except DomainError as error:
            add_form_error(form, error)
        else:
            flash(_("Milestone saved."), "success")
            return redirect(_edit_url(proposal.id, f"milestone-{milestone.id}"), 303)
    return _render_edit(proposal, 400, milestone_forms={milestone.id: form})


def _button(action, proposal: Proposal, success: str, anchor: str):
    """POST of a one-button form: check CSRF, call ``action``, flash, back to the project."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        action()
    except DomainError as error:
        unit_of_work.discard()  # the refusal is shown on the page the button leads back to
        flash(error.message, "error")
    else:
        flash(success, "success")
    return redirect(_edit_url(proposal.id, anchor), 303)


@bp.route("/milestones/<id:milestone_id>/done", methods=["POST"])
@role_required(Role.STAFF)
def complete_milestone(milestone_id: int):
    milestone, proposal = _milestone(milestone_id)
    return _button(lambda: services.complete_milestone(current_user, milestone), proposal,
                   _("Milestone marked done."), "milestones")


@bp.route("/milestones/<id:milestone_id>/delete", methods=["POST"])
@role_required(Role.STAFF)
def delete_milestone(milestone_id: int):
    milestone, proposal = _milestone(milestone_id)
    return _button(lambda: services.delete_milestone(current_user, milestone), proposal,
                   _("Milestone deleted."), "milestones")


@bp.route("/projects/<id:proposal_id>/photos", methods=["POST"])
@role_required(Role.STAFF)
def add_photo(proposal_id: int):
    proposal = _funded(proposal_id)
    form = PhotoForm(prefix="photo")
    if form.validate_on_submit():
        try:
            services.add_photo(current_user, proposal, form.photo.data.stream, form.alt_text.data)
        except DomainError as error:
            add_form_error(form, error)
        else:
            flash(_("Photo added."), "success")
            return redirect(_edit_url(proposal.id, "photos"), 303)
    return _render_edit(proposal, 400, photo_form=form)


@bp.route("/implementation-photos/<id:photo_id>/delete", methods=["POST"])
@role_required(Role.STAFF)
def delete_photo(photo_id: int):
    photo = db.get_or_404(ImplementationPhoto, photo_id)
    proposal = _funded(photo.implementation.proposal_id)
    return _button(lambda: services.remove_photo(current_user, photo), proposal, _("Photo removed."), "photos")


@bp.route("/pledges/<id:pledge_id>/fulfilled", methods=["POST"])
@role_required(Role.STAFF)
def fulfil_pledge(pledge_id: int):
    """Mark a pledge fulfilled, with an optional note (again: change the note)."""
    pledge = db.get_or_404(Pledge, pledge_id)
    proposal = _funded(pledge.proposal_id)
    form = PledgeFulfilmentForm(prefix=f"p{pledge.id}")
    if form.validate_on_submit():
        try:
            services.set_pledge_fulfilled(current_user, pledge, True, form.note.data or "")
        except DomainError as error:
            add_form_error(form, error)
        else:
            flash(_("Pledge marked fulfilled."), "success")
            return redirect(_edit_url(proposal.id, f"pledge-{pledge.id}"), 303)
    return _render_edit(proposal, 400, pledge_forms={pledge.id: form})


@bp.route("/pledges/<id:pledge_id>/unfulfilled", methods=["POST"])
@role_required(Role.STAFF)
def unfulfil_pledge(pledge_id: int):
    pledge = db.get_or_404(Pledge, pledge_id)
    proposal = _funded(pledge.proposal_id)
    return _button(lambda: services.set_pledge_fulfilled(current_user, pledge, False), proposal,
                   _("Pledge marked not fulfilled."), f"pledge-{pledge.id}")
