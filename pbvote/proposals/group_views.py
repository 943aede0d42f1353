"""Staff pages for a budget's groups of mutually exclusive projects (create, rename, delete; add and
remove feasible proposals).  Thin: load, check the role, validate, call one service, return; the
request commits once, or rolls back on an error response (:mod:`pbvote.unit_of_work`).  The rules
are in :mod:`pbvote.proposals.services.groups`."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from pbvote import unit_of_work
from pbvote.auth.models import Role
from pbvote.auth.session import role_required
from pbvote.cycles.models import Budget
from pbvote.errors import DomainError, InvalidInput
from pbvote.extensions import db
from pbvote.forms import EmptyForm, add_form_error
from pbvote.proposals import services
from pbvote.proposals.forms import GroupForm, GroupMemberForm
from pbvote.proposals.models import ExclusiveGroup, Proposal

bp = Blueprint("proposal_groups", __name__, url_prefix="/staff")


def _me():
    return current_user._get_current_object()


def _member_form(group: ExclusiveGroup, candidates, formdata=None) -> GroupMemberForm:
    form = GroupMemberForm(formdata=formdata, prefix=f"add-{group.id}")
    form.proposal.choices = [("", "—")] + [(p.id, f"#{p.id} {p.title}") for p in candidates]
    return form


def _render(budget: Budget, status: int = 200, *, create_form: GroupForm | None = None,
            failed: tuple[int, str, object] | None = None):
    """The page; ``failed`` is (group id, "rename" or "add", the form with its errors) to show in place."""
    groups = services.budget_groups(budget)
    candidates = services.group_candidates(budget)
    forms = {}
    for group in groups:
        rename = GroupForm(formdata=None, prefix=f"rename-{group.id}", obj=group)
        add = _member_form(group, candidates)
        if failed and failed[0] == group.id:
            if failed[1] == "rename":
                rename = failed[2]
            else:
                add = failed[2]
                add.proposal.choices = _member_form(group, candidates).proposal.choices
        forms[group.id] = (rename, add)
    return render_template(
        "proposals/groups.html", budget=budget, cycle=budget.cycle, groups=groups, forms=forms,
        candidates=candidates, warnings=services.group_warnings(budget, groups),
        create_form=create_form or GroupForm(formdata=None, prefix="new"), button_form=EmptyForm(),
        rule_counts_groups=services.rule_honours_groups(budget.tally_rule), on_ballot=services.groups.on_ballot,
    ), status


@bp.route("/budgets/<id:budget_id>/groups", methods=["GET", "POST"])
@role_required(Role.STAFF)
def groups(budget_id: int):
    """The budget's groups; POST creates one."""
    budget = db.get_or_404(Budget, budget_id)
    form = GroupForm(prefix="new")
    if not form.is_submitted():
        return _render(budget)
    if form.validate():
        try:
            group = services.create_group(_me(), budget, form.name.data)
        except DomainError as error:
            add_form_error(form, error)
        else:
            flash(_("Group “%(name)s” created: now add the projects that cannot be built together.", name=group.name),
                  "success")
            return redirect(url_for(".groups", budget_id=budget.id, _anchor=f"group-{group.id}")), 303
    return _render(budget, 400, create_form=form)


def _group(group_id: int) -> ExclusiveGroup:
    return db.get_or_404(ExclusiveGroup, group_id)


def _back(group: ExclusiveGroup, anchor: bool = True):
    return redirect(url_for(".groups", budget_id=group.budget_id,
                            _anchor=f"group-{group.id}" if anchor else None)), 303


@bp.route("/exclusive-groups/<id:group_id>/rename", methods=["POST"])
@role_required(Role.STAFF)
def rename(group_id: int):
    group = _group(group_id)
    form = GroupForm(prefix=f"rename-{group.id}")
    if form.validate():
        try:
            services.rename_group(_me(), group, form.name.data)
        except DomainError as error:
            add_form_error(form, error)
        else:
            flash(_("Group renamed."), "success")
            return _back(group)
    return _render(group.budget, 400, failed=(group.id, "rename", form))


@bp.route("/exclusive-groups/<id:group_id>/delete", methods=["POST"])
@role_required(Role.STAFF)
def delete(group_id: int):
    group = _group(group_id)
    budget = group.budget
    if not EmptyForm().validate_on_submit():
        abort(400)
    name = group.name
    try:
        services.delete_group(_me(), group)
    except DomainError as error:
        unit_of_work.discard()
        flash(error.message, "error")
        return redirect(url_for(".groups", budget_id=budget.id)), 303
    flash(_("Group “%(name)s” deleted: its projects no longer exclude one another.", name=name), "success")
    return redirect(url_for(".groups", budget_id=budget.id)), 303


@bp.route("/exclusive-groups/<id:group_id>/members", methods=["POST"])
@role_required(Role.STAFF)
def add_member(group_id: int):
    group = _group(group_id)
    form = GroupMemberForm(prefix=f"add-{group.id}")
    form.proposal.choices = []
    if form.validate():
        try:
            proposal = db.session.get(Proposal, form.proposal.data) if form.proposal.data else None
            if proposal is None:
                raise InvalidInput(_("Choose a project to add."), field="proposal")
            services.add_to_group(_me(), group, proposal)
        except DomainError as error:
            add_form_error(form, error)
        else:
            flash(_("“%(title)s” added to “%(group)s”.", title=proposal.title, group=group.name), "success")
            return _back(group)
    return _render(group.budget, 400, failed=(group.id, "add", form))


@bp.route("/exclusive-groups/<id:group_id>/members/<id:proposal_id>/remove", methods=["POST"])
@role_required(Role.STAFF)
def remove_member(group_id: int, proposal_id: int):
    group = _group(group_id)
    proposal = db.get_or_404(Proposal, proposal_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        services.remove_from_group(_me(), group, proposal)
    except DomainError as error:
        unit_of_work.discard()
        flash(error.message, "error")
        return _back(group)
    flash(_("“%(title)s” removed from “%(group)s”.", title=proposal.title, group=group.name), "success")
    return _back(group)
