"""Proposal pages: list and search, write and submit, co-authors, supports, pledges, discussion,
moderation and review.  Thin: load, check, validate, call one service, return; the request commits
once, or rolls back on an error response (:mod:`pbvote.unit_of_work`)."""
from __future__ import annotations

import os

from flask import (Blueprint, abort, current_app, flash, redirect, render_template, request, session,
                   url_for)
from flask_babel import gettext as _
from flask_login import current_user

from pbvote import unit_of_work
from pbvote.auth.models import Role
from pbvote.auth.session import login_required, public, role_required
from pbvote.bounds import page_number
from pbvote.cycles import services as cycle_services
from pbvote.cycles.models import Budget, Category, Cycle
from pbvote.errors import DomainError, InvalidInput
from pbvote.extensions import db, limiter
from pbvote.forms import EmptyForm, add_form_error
from pbvote.money import from_minor_units, to_minor_units
from pbvote.proposals import services
from pbvote.proposals.forms import (FREQUENCY_LABELS, PLEDGE_KIND_LABELS, CommentEditForm, CommentForm, FlagForm, ImageForm, InviteForm, ListForm,
                                    ModerateForm, PledgeForm, ProposalForm, RespondForm, ReviewForm)
from pbvote.proposals.labels import STATUS_LABELS, status_label
from pbvote.proposals.locations import located_area, map_places
from pbvote.proposals.services.images import image_response
from pbvote.timeutil import utcnow
from pbvote.proposals.models import PUBLIC_STATUSES, Coauthor, Comment, Pledge, Proposal, ProposalImage, ProposalStatus

bp = Blueprint("proposals", __name__)
bp.add_app_template_global(status_label, "status_label")

PER_PAGE = 20


def _me():
    return current_user._get_current_object() if current_user.is_authenticated else None


def _visible_proposal(proposal_id: int) -> Proposal:
    proposal = db.get_or_404(Proposal, proposal_id)
    if not services.can_view(_me(), proposal):
        abort(404)
    return proposal


def _comment_limit() -> str:
    return current_app.config.get("PBVOTE_COMMENT_LIMIT", "10 per minute")


def _comment_key() -> str:
    return f"comment:{current_user.get_id() if current_user.is_authenticated else request.remote_addr}"


def _status(*forms) -> int:
    return 400 if any(f.errors or f.form_errors for f in forms) else 200


# -- browsing -------------------------------------------------------------------------------------


@bp.route("/cycles/<slug>/proposals")
@public
def index(slug: str):
    cycle = cycle_services.get_public_cycle(slug) or abort(404)
    form = ListForm(request.args)
    form.budget.choices = [("", _("All budgets"))] + [(b.id, b.name) for b in cycle.budgets]
    form.category.choices = [("", _("All categories"))] + [(c.id, c.name) for c in cycle.categories]
    form.status.choices = [("", _("All"))] + [(s.value, str(STATUS_LABELS[s])) for s in PUBLIC_STATUSES]
    form.validate()
    sort = form.sort.data if form.sort.data in services.SORTS else "newest"
    if "proposal_seed" not in session:
        session["proposal_seed"] = services.new_random_seed()
    status = form.status.data if form.status.data and not form.status.errors else None
    query = services.ProposalQuery(
        text=form.q.data or "", budget_id=None if form.budget.errors else form.budget.data,
        category_id=None if form.category.errors else form.category.data,
        status=ProposalStatus(status) if status else None, sort=sort, seed=session["proposal_seed"],
    )
    page = page_number()
    pagination = db.paginate(services.search_statement(cycle, query), page=page, per_page=PER_PAGE, error_out=False)
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template("proposals/index.html", cycle=cycle, form=form, pagination=pagination, args=args,
                           can_propose=cycle.is_in(cycle_services.PhaseKind.SUBMISSION),
                           places=map_places(pagination.items))


def _render_show(proposal: Proposal, status: int = 200, **forms):
    me = _me()
    defaults = {
        "comment_form": CommentForm(formdata=None), "pledge_form": PledgeForm(formdata=None, prefix="pledge"),
        "invite_form": InviteForm(formdata=None, prefix="invite"), "image_form": ImageForm(formdata=None, prefix="image"),
    }
    defaults.update(forms)
    return render_template(
        "proposals/show.html", proposal=proposal, cycle=proposal.cycle, me=me, places=map_places([proposal]),
        threads=services.comment_threads(proposal), can_edit=services.can_edit(me, proposal),
        is_author=services.is_author(me, proposal), has_supported=services.has_supported(me, proposal),
        merged_from=services.merged_into(proposal), exclusion=services.exclusion_of(proposal),
        qualifies=services.qualifies_for_review(proposal),
        support_open=proposal.status == ProposalStatus.SUBMITTED and proposal.cycle.is_in(cycle_services.PhaseKind.SUBMISSION),
        on_ballot_now=proposal.status == ProposalStatus.FEASIBLE and proposal.cycle.is_in(cycle_services.PhaseKind.VOTING),
        can_edit_comment=lambda c: services.can_edit_comment(me, c),
        button_form=EmptyForm(), flag_form=FlagForm(formdata=None), moderate_form=ModerateForm(formdata=None),
        frequency_label=FREQUENCY_LABELS.get, pledge_kind_label=PLEDGE_KIND_LABELS.get,
        **defaults,
    ), status


@bp.route("/proposals/<id:proposal_id>")
@public
def show(proposal_id: int):
    return _render_show(_visible_proposal(proposal_id))


# -- writing --------------------------------------------------------------------------------------


def _proposal_form(cycle: Cycle, proposal: Proposal | None = None) -> ProposalForm:
    form = ProposalForm(obj=proposal)
    form.budget.choices = [(b.id, b.name) for b in cycle.budgets]
    form.category.choices = [("", _("No category"))] + [(c.id, c.name) for c in cycle.categories]
    if proposal is not None and not form.is_submitted():
        form.budget.data = proposal.budget_id
        form.category.data = proposal.category_id
        form.estimated.data = from_minor_units(proposal.estimated_amount, cycle.currency)
    return form


def _proposal_values(cycle: Cycle, form: ProposalForm) -> dict:
    return {
        "title": form.title.data, "body": form.body.data,
        "estimated_amount": to_minor_units(form.estimated.data, cycle.currency),
        "budget": db.session.get(Budget, form.budget.data) if form.budget.data else None,
        "category": db.session.get(Category, form.category.data) if form.category.data else None,
        "address": form.address.data, "latitude": form.latitude.data, "longitude": form.longitude.data,
    }


def _proposal_error(form, error: DomainError) -> None:
    if error.field == "estimated_amount":
        error.field = "estimated"
    add_form_error(form, error)


@bp.route("/cycles/<slug>/proposals/new", methods=["GET", "POST"])
@login_required
def new(slug: str):
    cycle = cycle_services.get_public_cycle(slug) or abort(404)
    if not cycle.is_in(cycle_services.PhaseKind.SUBMISSION):
        # No form to fill in for nothing: when proposals open (or when they closed) instead.
        return render_template(
            "proposals/submissions_closed.html", cycle=cycle, phase=cycle.phase(cycle_services.PhaseKind.SUBMISSION),
            now=utcnow(),
        ), 409 if request.method == "POST" else 200
    form = _proposal_form(cycle)
    if form.validate_on_submit():
        try:
            proposal = services.create_proposal(_me(), cycle, **_proposal_values(cycle, form))
        except DomainError as error:
            _proposal_error(form, error)
        else:
            flash(_("Draft saved. Check it, add pictures or co-authors, then submit it."), "success")
            return redirect(url_for("proposals.show", proposal_id=proposal.id))
    return render_template("proposals/form.html", cycle=cycle, form=form, proposal=None,
                           area=located_area(cycle)), _status(form)


@bp.route("/proposals/<id:proposal_id>/edit", methods=["GET", "POST"])
@login_required
def edit(proposal_id: int):
    proposal = _visible_proposal(proposal_id)
    if not services.is_author(_me(), proposal):
        abort(403)
    form = _proposal_form(proposal.cycle, proposal)
    if form.validate_on_submit():
        try:
            services.update_proposal(_me(), proposal, **_proposal_values(proposal.cycle, form))
        except DomainError as error:
            _proposal_error(form, error)
        else:
            flash(_("Proposal saved."), "success")
            return redirect(url_for("proposals.show", proposal_id=proposal.id))
    return render_template("proposals/form.html", cycle=proposal.cycle, form=form, proposal=proposal,
                           area=located_area(proposal.cycle)), _status(form)


def _button_action(proposal_id: int, action, success: str, *args):
    """POST handler of a one-button form: validate CSRF, call ``action``, flash, back to the proposal."""
    proposal = _visible_proposal(proposal_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        action(_me(), proposal, *args)
    except DomainError as error:
        unit_of_work.discard()
        flash(error.message, "error")
    else:
        flash(success, "success")
    return redirect(url_for("proposals.show", proposal_id=proposal_id)), 303


@bp.route("/proposals/<id:proposal_id>/submit", methods=["POST"])
@login_required
def submit(proposal_id: int):
    return _button_action(proposal_id, services.submit_proposal, _("Your proposal is now public. Share it to collect supports!"))


@bp.route("/proposals/<id:proposal_id>/withdraw", methods=["POST"])
@login_required
def withdraw(proposal_id: int):
    return _button_action(proposal_id, services.withdraw_proposal, _("Proposal withdrawn."))


@bp.route("/proposals/<id:proposal_id>/support", methods=["POST"])
@login_required
def support(proposal_id: int):
    return _button_action(proposal_id, services.support_proposal, _("Thank you for your support."))


@bp.route("/proposals/<id:proposal_id>/unsupport", methods=["POST"])
@login_required
def unsupport(proposal_id: int):
    return _button_action(proposal_id, services.withdraw_support, _("Your support was withdrawn."))


# -- images ---------------------------------------------------------------------------------------


@bp.route("/proposals/<id:proposal_id>/images", methods=["POST"])
@login_required
def add_image(proposal_id: int):
    proposal = _visible_proposal(proposal_id)
    form = ImageForm(prefix="image")
    if form.validate_on_submit():
        try:
            services.add_image(_me(), proposal, form.image.data.stream, form.alt_text.data)
        except DomainError as error:
            _proposal_error(form, error)
        else:
            flash(_("Picture added."), "success")
            return redirect(url_for("proposals.show", proposal_id=proposal.id)), 303
    return _render_show(proposal, 400, image_form=form)


@bp.route("/proposal-images/<id:image_id>")
@public
def image(image_id: int):
    image = db.get_or_404(ProposalImage, image_id)
    proposal = _visible_proposal(image.proposal_id)
    extension = os.path.splitext(image.stored_name)[1]
    return image_response(services.image_path(image), image.content_type,
                          f"proposal-{proposal.id}-{image.id}{extension}")


@bp.route("/proposal-images/<id:image_id>/delete", methods=["POST"])
@login_required
def delete_image(image_id: int):
    image = db.get_or_404(ProposalImage, image_id)
    proposal_id = image.proposal_id
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        services.remove_image(_me(), image)
    except DomainError as error:
        unit_of_work.discard()
        flash(error.message, "error")
    else:
        flash(_("Picture removed."), "success")
    return redirect(url_for("proposals.show", proposal_id=proposal_id)), 303


# -- co-authors -----------------------------------------------------------------------------------


@bp.route("/proposals/<id:proposal_id>/coauthors", methods=["POST"])
@login_required
def invite(proposal_id: int):
    proposal = _visible_proposal(proposal_id)
    form = InviteForm(prefix="invite")
    if form.validate_on_submit():
        try:
            invitation = services.invite_coauthor(_me(), proposal, form.who.data)
        except DomainError as error:
            _proposal_error(form, error)
        else:
            flash(_("%(name)s has been invited. They will find the invitation under “My proposals”.",
                    name=invitation.user.display_name), "success")
            return redirect(url_for("proposals.show", proposal_id=proposal.id)), 303
    return _render_show(proposal, 400, invite_form=form)


@bp.route("/invitations/<id:invitation_id>", methods=["POST"])
@login_required
def respond(invitation_id: int):
    invitation = db.get_or_404(Coauthor, invitation_id)
    form = RespondForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        services.respond_to_invitation(_me(), invitation, accept=bool(form.accept.data))
    except DomainError as error:
        unit_of_work.discard()
        flash(error.message, "error")
    else:
        flash(_("You are now a co-author.") if form.accept.data else _("Invitation declined."), "success")
    return redirect(url_for("proposals.mine")), 303


@bp.route("/my/proposals")
@login_required
def mine():
    me = _me()
    return render_template("proposals/mine.html", proposals=services.proposals_of(me),
                           invitations=services.pending_invitations(me), respond_form=RespondForm())


# -- pledges --------------------------------------------------------------------------------------


@bp.route("/proposals/<id:proposal_id>/pledges", methods=["POST"])
@login_required
def pledge(proposal_id: int):
    proposal = _visible_proposal(proposal_id)
    form = PledgeForm(prefix="pledge")
    if form.validate_on_submit():
        try:
            services.add_pledge(_me(), proposal, kind=form.kind.data, description=form.description.data,
                                hours=form.hours.data, frequency=form.frequency.data or None)
        except DomainError as error:
            _proposal_error(form, error)
        else:
            flash(_("Thank you! Your pledge is on the proposal."), "success")
            return redirect(url_for("proposals.show", proposal_id=proposal.id)), 303
    return _render_show(proposal, 400, pledge_form=form)


@bp.route("/pledges/<id:pledge_id>/delete", methods=["POST"])
@login_required
def delete_pledge(pledge_id: int):
    pledge = db.get_or_404(Pledge, pledge_id)
    proposal_id = pledge.proposal_id
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        services.remove_pledge(_me(), pledge)
    except DomainError as error:
        unit_of_work.discard()
        flash(error.message, "error")
    else:
        flash(_("Pledge withdrawn."), "success")
    return redirect(url_for("proposals.show", proposal_id=proposal_id)), 303


# -- comments -------------------------------------------------------------------------------------


@bp.route("/proposals/<id:proposal_id>/comments", methods=["POST"])
@login_required
@limiter.limit(_comment_limit, key_func=_comment_key, methods=["POST"])
def comment(proposal_id: int):
    proposal = _visible_proposal(proposal_id)
    form = CommentForm()
    if form.validate_on_submit():
        parent = None
        if form.parent_id.data is not None:
            parent = db.session.get(Comment, form.parent_id.data)
            if parent is None:
                abort(400)
        try:
            created = services.add_comment(_me(), proposal, form.body.data, parent)
        except DomainError as error:
            _proposal_error(form, error)
        else:
            flash(_("Comment published."), "success")
            return redirect(url_for("proposals.show", proposal_id=proposal.id, _anchor=f"comment-{created.id}")), 303
    return _render_show(proposal, 400, comment_form=form)


@bp.route("/comments/<id:comment_id>/edit", methods=["GET", "POST"])
@login_required
def edit_comment(comment_id: int):
    comment = db.get_or_404(Comment, comment_id)
    proposal = _visible_proposal(comment.proposal_id)
    if comment.author_id != current_user.id:
        abort(403)
    form = CommentEditForm(obj=comment)
    if form.validate_on_submit():
        try:
            services.edit_comment(_me(), comment, form.body.data)
        except DomainError as error:
            add_form_error(form, error)
        else:
            flash(_("Comment updated."), "success")
            return redirect(url_for("proposals.show", proposal_id=proposal.id, _anchor=f"comment-{comment.id}"))
    return render_template("proposals/comment_edit.html", comment=comment, proposal=proposal, form=form), _status(form)


@bp.route("/comments/<id:comment_id>/flag", methods=["POST"])
@login_required
def flag_comment(comment_id: int):
    comment = db.get_or_404(Comment, comment_id)
    _visible_proposal(comment.proposal_id)
    form = FlagForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        services.flag_comment(_me(), comment, form.reason.data)
    except DomainError as error:
        unit_of_work.discard()
        flash(error.message, "error")
    else:
        flash(_("Thank you. A moderator will look at this comment."), "success")
    return redirect(url_for("proposals.show", proposal_id=comment.proposal_id, _anchor=f"comment-{comment.id}")), 303


@bp.route("/comments/<id:comment_id>/moderate", methods=["POST"])
@role_required(Role.MODERATOR)
def moderate_comment(comment_id: int):
    comment = db.get_or_404(Comment, comment_id)
    form = ModerateForm()
    if not form.validate_on_submit():
        flash(_("Give a reason: it is kept in the moderation log."), "error")
    else:
        try:
            services.moderate_comment(_me(), comment, hide=not comment.is_hidden, reason=form.reason.data)
        except DomainError as error:
            unit_of_work.discard()
            flash(error.message, "error")
        else:
            flash(_("Comment hidden.") if comment.is_hidden else _("Comment restored."), "success")
    if request.form.get("return_to") == "queue":  # acted on in the moderation queue: stay there
        return redirect(url_for("proposals.moderation_queue", _anchor=f"comment-{comment.id}")), 303
    return redirect(url_for("proposals.show", proposal_id=comment.proposal_id, _anchor=f"comment-{comment.id}")), 303


@bp.route("/staff/cycles/<id:cycle_id>/moderation")
@role_required(Role.MODERATOR)
def moderation(cycle_id: int):
    cycle = db.get_or_404(Cycle, cycle_id)
    return render_template("proposals/moderation.html", cycle=cycle, comments=services.flagged_comments(cycle),
                           moderate_form=ModerateForm(formdata=None))


@bp.route("/moderation")
@role_required(Role.MODERATOR)
def moderation_queue():
    """The moderators' work queue (the header's link): reported comments of every cycle, each
    hidden or restored in place, with the reason kept in the moderation log."""
    return render_template("proposals/moderation.html", cycle=None, comments=services.flagged_comments(),
                           moderate_form=ModerateForm(formdata=None))


@bp.route("/review")
@role_required(Role.REVIEWER)
def review_queues():
    """The reviewers' work queue (the header's link): each cycle and how many proposals await
    review there."""
    return render_template("proposals/review_queues.html", queues=services.awaiting_review_counts())


# -- review ---------------------------------------------------------------------------------------


@bp.route("/review/cycles/<id:cycle_id>")
@role_required(Role.REVIEWER)
def review_queue(cycle_id: int):
    cycle = db.get_or_404(Cycle, cycle_id)
    return render_template("proposals/review_queue.html", cycle=cycle, proposals=services.review_queue(cycle),
                           qualifies=services.qualifies_for_review)


@bp.route("/review/proposals/<id:proposal_id>", methods=["GET", "POST"])
@role_required(Role.REVIEWER)
def review(proposal_id: int):
    proposal = db.get_or_404(Proposal, proposal_id)
    if not services.can_view(_me(), proposal):
        abort(404)  # the proposal page's visibility rule: others' drafts stay private
    cycle = proposal.cycle
    form = ReviewForm()
    form.target.choices = [("", "—")] + [(p.id, f"#{p.id} {p.title}") for p in services.merge_targets(proposal)]
    if not form.is_submitted():
        form.final.data = from_minor_units(proposal.final_amount or proposal.estimated_amount, cycle.currency)
    if form.validate_on_submit():
        me = _me()
        try:
            if form.decision.data == "feasible":
                amount = to_minor_units(form.final.data, cycle.currency) if form.final.data is not None else None
                services.mark_feasible(me, proposal, amount, form.explanation.data or "")
            elif form.decision.data == "unfeasible":
                services.mark_unfeasible(me, proposal, form.reason.data or "")
            else:
                target = db.session.get(Proposal, form.target.data) if form.target.data else None
                if target is None:
                    raise InvalidInput(_("Choose the proposal to merge into."), field="target")
                services.merge_proposal(me, proposal, target, form.reason.data or "")
        except DomainError as error:
            if error.field == "final_amount":
                error.field = "final"
            add_form_error(form, error)
        else:
            flash(_("Review saved: %(status)s.", status=STATUS_LABELS[proposal.status]), "success")
            return redirect(url_for("proposals.review_queue", cycle_id=cycle.id))
    return render_template("proposals/review.html", proposal=proposal, cycle=proposal.cycle, form=form,
                           qualifies=services.qualifies_for_review(proposal)), _status(form)
