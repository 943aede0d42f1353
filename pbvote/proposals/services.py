"""Proposal use cases: write and submit, co-author, support, pledge, discuss, moderate, review.

The rules, in one place:

* Proposals are written (created, edited, submitted, given images and co-authors) while the cycle
  is in its submission phase, and edited only as draft or submitted — review ends editing.
* A resident may be the main author of at most ``Cycle.max_proposals_per_resident`` proposals
  (withdrawn ones do not count).
* Supports: one per resident per proposal (a unique constraint backs this), only for submitted
  proposals during submission; ``support_count`` moves with them in the same statement.  A proposal
  with at least ``Cycle.support_threshold`` supports qualifies for review.
* Review (reviewers and staff) happens during submission or review, before voting freezes the
  budget: feasible with a final cost (explained when it differs), unfeasible with a public reason,
  or merged into another proposal (supports carried over without counting anyone twice, pledges
  carried over, authors credited as co-authors).  Only feasible proposals go on the ballot.
* Comments have two levels, can be edited by their author for 15 minutes, flagged by residents and
  hidden or restored (with a reason) by moderators and staff.
"""
from __future__ import annotations

import hashlib
import os
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, BinaryIO

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from pbvote import audit
from pbvote.auth.models import Role, User
from pbvote.cycles.models import Budget, Category, Cycle, PhaseKind
from pbvote.errors import Conflict, InvalidInput, NotAllowed, NotFound, PhaseClosed, RulesFrozen
from pbvote.extensions import db
from pbvote.proposals import notices
from pbvote.proposals.models import (
    PUBLIC_STATUSES,
    Coauthor,
    CoauthorStatus,
    Comment,
    CommentFlag,
    Pledge,
    PledgeFrequency,
    PledgeKind,
    Proposal,
    ProposalImage,
    ProposalStatus,
    Support,
    search_document,
)
from pbvote.timeutil import utcnow

COMMENT_EDIT_WINDOW = timedelta(minutes=15)
MAX_IMAGES_PER_PROPOSAL = 5
DEFAULT_MAX_IMAGE_BYTES = 5 * 1024 * 1024
EDITABLE_STATUSES = (ProposalStatus.DRAFT, ProposalStatus.SUBMITTED)
REVIEWABLE_STATUSES = (ProposalStatus.SUBMITTED, ProposalStatus.FEASIBLE, ProposalStatus.UNFEASIBLE)
PROPOSAL_FIELDS = ("title", "body", "estimated_amount", "budget", "category", "address", "latitude", "longitude")


# -- visibility and permissions -----------------------------------------------------------------


def is_author(user: User | None, proposal: Proposal) -> bool:
    """The main author or a co-author who accepted."""
    return user is not None and getattr(user, "id", None) in proposal.author_ids()


def can_view(user: User | None, proposal: Proposal) -> bool:
    """Public proposals are visible to all; drafts and withdrawn ones to their authors and staff."""
    if proposal.status in PUBLIC_STATUSES:
        return True
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return is_author(user, proposal) or user.has_role(Role.STAFF) or _is_invited(user, proposal)


def _is_invited(user: User, proposal: Proposal) -> bool:
    return any(c.user_id == user.id and c.status == CoauthorStatus.INVITED for c in proposal.coauthors)


def can_edit(user: User | None, proposal: Proposal) -> bool:
    return (
        is_author(user, proposal)
        and proposal.status in EDITABLE_STATUSES
        and proposal.cycle.is_in(PhaseKind.SUBMISSION)
    )


def _require_submission_phase(cycle: Cycle) -> None:
    if not cycle.is_in(PhaseKind.SUBMISSION):
        raise PhaseClosed(_("Proposals can only be written and changed while the cycle is collecting proposals."))


def _require_editor(user: User, proposal: Proposal) -> None:
    if not is_author(user, proposal):
        raise NotAllowed(_("Only the authors of a proposal can change it."))
    if proposal.status not in EDITABLE_STATUSES:
        raise PhaseClosed(_("This proposal has been reviewed and can no longer be changed."))
    _require_submission_phase(proposal.cycle)


# -- writing ------------------------------------------------------------------------------------


def _check_proposal_values(cycle: Cycle, values: dict[str, Any]) -> dict[str, Any]:
    title = (values.get("title") or "").strip()
    body = (values.get("body") or "").strip()
    if not 5 <= len(title) <= 160:
        raise InvalidInput(_("Give the proposal a title of 5 to 160 characters."), field="title")
    if len(body) < 20:
        raise InvalidInput(_("Describe the proposal in at least 20 characters."), field="body")
    if len(body) > 20_000:
        raise InvalidInput(_("The description is too long (at most 20,000 characters)."), field="body")
    amount = values.get("estimated_amount")
    if amount is None or amount <= 0:
        raise InvalidInput(_("Estimate the cost: an amount more than zero."), field="estimated_amount")
    budget: Budget | None = values.get("budget")
    if budget is None or budget.cycle_id != cycle.id:
        raise InvalidInput(_("Choose one of this cycle's budgets."), field="budget")
    if amount > budget.total_amount:
        raise InvalidInput(_("The estimate is more than the whole budget it asks for."), field="estimated_amount")
    category: Category | None = values.get("category")
    if category is not None and category.cycle_id != cycle.id:
        raise InvalidInput(_("Choose one of this cycle's categories."), field="category")
    latitude, longitude = values.get("latitude"), values.get("longitude")
    if (latitude is None) != (longitude is None):
        raise InvalidInput(_("Give both latitude and longitude, or neither."), field="latitude")
    if latitude is not None and not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise InvalidInput(_("Latitude lies between -90 and 90 and longitude between -180 and 180."), field="latitude")
    address = (values.get("address") or "").strip() or None
    return {"title": title, "body": body, "estimated_amount": amount, "budget": budget, "category": category,
            "address": address, "latitude": latitude, "longitude": longitude}


def count_own_proposals(user: User, cycle: Cycle) -> int:
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(Proposal).where(
            Proposal.cycle_id == cycle.id, Proposal.author_id == user.id, Proposal.status != ProposalStatus.WITHDRAWN
        )
    )


def create_proposal(user: User, cycle: Cycle, **values: Any) -> Proposal:
    """Create a draft proposal written by ``user``."""
    _require_submission_phase(cycle)
    clean = _check_proposal_values(cycle, values)
    limit = cycle.max_proposals_per_resident
    if limit is not None and count_own_proposals(user, cycle) >= limit:
        raise Conflict(
            _("You have reached the limit of %(n)d proposals per resident in this cycle. You can still co-author "
              "proposals or withdraw one of yours.", n=limit)
        )
    proposal = Proposal(cycle=cycle, author=user, status=ProposalStatus.DRAFT, **clean)
    db.session.add(proposal)
    db.session.flush()
    audit.record("proposal.created", actor=user, subject=proposal, title=proposal.title)
    return proposal


def update_proposal(user: User, proposal: Proposal, **values: Any) -> Proposal:
    """Change a draft or submitted proposal (its authors, during submission)."""
    _require_editor(user, proposal)
    current = {name: getattr(proposal, name) for name in PROPOSAL_FIELDS}
    clean = _check_proposal_values(proposal.cycle, {**current, **values})
    changes = {k: v for k, v in clean.items() if current[k] != v}
    for name, value in changes.items():
        setattr(proposal, name, value)
    db.session.flush()
    if changes:
        audit.record("proposal.updated", actor=user, subject=proposal, fields=sorted(changes))
    return proposal


def submit_proposal(user: User, proposal: Proposal) -> Proposal:
    """Make a draft public: it starts collecting supports."""
    _require_editor(user, proposal)
    if proposal.status != ProposalStatus.DRAFT:
        raise Conflict(_("This proposal has already been submitted."))
    proposal.status = ProposalStatus.SUBMITTED
    proposal.submitted_at = utcnow()
    db.session.flush()
    audit.record("proposal.submitted", actor=user, subject=proposal)
    return proposal


def withdraw_proposal(user: User, proposal: Proposal) -> Proposal:
    """The main author takes a draft or submitted proposal back (during submission)."""
    if user.id != proposal.author_id:
        raise NotAllowed(_("Only the main author can withdraw a proposal."))
    _require_editor(user, proposal)
    proposal.status = ProposalStatus.WITHDRAWN
    db.session.flush()
    audit.record("proposal.withdrawn", actor=user, subject=proposal)
    return proposal


# -- images -------------------------------------------------------------------------------------

#: Magic numbers of the image types we accept.  Checked by hand — a dozen bytes do not justify an
#: imaging library — and SVG is deliberately absent (it can carry scripts).
IMAGE_TYPES = {"image/png": ".png", "image/jpeg": ".jpg", "image/gif": ".gif", "image/webp": ".webp"}


def sniff_image_type(head: bytes) -> str | None:
    """The image type of a file from its first bytes, or None if it is not an accepted image."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


def upload_dir() -> str:
    return os.path.join(current_app.config["PBVOTE_UPLOAD_DIR"], "proposals")


def image_path(image: ProposalImage) -> str:
    return os.path.join(upload_dir(), image.stored_name)


def add_image(user: User, proposal: Proposal, stream: BinaryIO, alt_text: str = "") -> ProposalImage:
    """Store an uploaded picture under a random name, after checking its type by content and size."""
    _require_editor(user, proposal)
    if len(proposal.images) >= MAX_IMAGES_PER_PROPOSAL:
        raise Conflict(_("A proposal can have at most %(n)d pictures.", n=MAX_IMAGES_PER_PROPOSAL), field="image")
    limit = current_app.config.get("PBVOTE_MAX_IMAGE_BYTES", DEFAULT_MAX_IMAGE_BYTES)
    data = stream.read(limit + 1)
    if not data:
        raise InvalidInput(_("The file is empty."), field="image")
    if len(data) > limit:
        raise InvalidInput(_("The picture is too large (at most %(mb)d MB).", mb=limit // (1024 * 1024) or 1),
                           field="image")
    content_type = sniff_image_type(data[:16])
    if content_type is None:
        raise InvalidInput(_("Upload a PNG, JPEG, GIF or WebP picture."), field="image")
    stored_name = secrets.token_hex(16) + IMAGE_TYPES[content_type]
    os.makedirs(upload_dir(), exist_ok=True)
    path = os.path.join(upload_dir(), stored_name)
    with open(path, "xb") as out:
        out.write(data)
    image = ProposalImage(
        stored_name=stored_name, content_type=content_type, size_bytes=len(data),
        alt_text=(alt_text or "").strip()[:200], uploaded_by_id=user.id,
    )
    proposal.images.append(image)
    db.session.flush()
    audit.record("proposal.image_added", actor=user, subject=proposal, image_id=image.id,
                 sha256=hashlib.sha256(data).hexdigest(), content_type=content_type)
    return image


def remove_image(user: User, image: ProposalImage) -> None:
    proposal = db.session.get(Proposal, image.proposal_id)
    _require_editor(user, proposal)
    audit.record("proposal.image_removed", actor=user, subject=proposal, image_id=image.id)
    path = image_path(image)
    proposal.images.remove(image)
    db.session.flush()
    try:
        os.remove(path)
    except FileNotFoundError:  # pragma: no cover - already gone
        pass


# -- co-authors ---------------------------------------------------------------------------------


def invite_coauthor(user: User, proposal: Proposal, who: str) -> Coauthor:
    """Invite a resident, named by e-mail address or display name, to co-author the proposal."""
    _require_editor(user, proposal)
    who = (who or "").strip()
    if not who:
        raise InvalidInput(_("Enter the e-mail address or the name of the person to invite."), field="who")
    if "@" in who:
        matches = list(db.session.scalars(sa.select(User).where(User.email == who.lower())))
    else:
        matches = list(db.session.scalars(
            sa.select(User).where(sa.func.lower(User.display_name) == who.lower()).limit(2)
        ))
    if not matches:
        raise NotFound(_("No account matches “%(who)s”. Ask them to create an account first.", who=who), field="who")
    if len(matches) > 1:
        raise Conflict(_("Several people use that name: invite them by e-mail address instead."), field="who")
    invitee = matches[0]
    if invitee.id == proposal.author_id:
        raise Conflict(_("That is the proposal's main author."), field="who")
    existing = next((c for c in proposal.coauthors if c.user_id == invitee.id), None)
    if existing is not None and existing.status != CoauthorStatus.DECLINED:
        raise Conflict(_("%(name)s is already invited or a co-author.", name=invitee.display_name), field="who")
    if existing is None:
        existing = Coauthor(user=invitee)
        proposal.coauthors.append(existing)
    existing.status = CoauthorStatus.INVITED
    existing.invited_by_id = user.id
    existing.invited_at = utcnow()
    existing.responded_at = None
    db.session.flush()
    audit.record("proposal.coauthor_invited", actor=user, subject=proposal, invitee_id=invitee.id)
    notices.coauthor_invited(user, existing)
    return existing


def respond_to_invitation(user: User, invitation: Coauthor, accept: bool) -> Coauthor:
    """Accept or decline an invitation to co-author."""
    if invitation.user_id != user.id:
        raise NotAllowed(_("This invitation is for someone else."))
    if invitation.status != CoauthorStatus.INVITED:
        raise Conflict(_("You have already answered this invitation."))
    invitation.status = CoauthorStatus.ACCEPTED if accept else CoauthorStatus.DECLINED
    invitation.responded_at = utcnow()
    db.session.flush()
    audit.record("proposal.coauthor_" + ("accepted" if accept else "declined"), actor=user,
                 subject=invitation.proposal)
    return invitation


def pending_invitations(user: User) -> list[Coauthor]:
    return list(db.session.scalars(
        sa.select(Coauthor).where(Coauthor.user_id == user.id, Coauthor.status == CoauthorStatus.INVITED)
        .order_by(Coauthor.id)
    ))


def proposals_of(user: User) -> list[Proposal]:
    """Proposals the user wrote or co-authors, newest first."""
    coauthored = sa.select(Coauthor.proposal_id).where(
        Coauthor.user_id == user.id, Coauthor.status == CoauthorStatus.ACCEPTED
    )
    return list(db.session.scalars(
        sa.select(Proposal).where(sa.or_(Proposal.author_id == user.id, Proposal.id.in_(coauthored)))
        .order_by(Proposal.created_at.desc(), Proposal.id.desc())
    ))


# -- supports -----------------------------------------------------------------------------------


def has_supported(user: User | None, proposal: Proposal) -> bool:
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return db.session.scalar(
        sa.select(Support.id).where(Support.proposal_id == proposal.id, Support.user_id == user.id)
    ) is not None


def _require_support_open(proposal: Proposal) -> None:
    if proposal.status != ProposalStatus.SUBMITTED:
        raise Conflict(_("Only submitted proposals that await review can be supported."))
    if not proposal.cycle.is_in(PhaseKind.SUBMISSION):
        raise PhaseClosed(_("Supports are collected only while the cycle is collecting proposals."))


def support_proposal(user: User, proposal: Proposal) -> Support:
    """Record the user's support (once per proposal) and raise the proposal's count with it."""
    _require_support_open(proposal)
    support = Support(proposal_id=proposal.id, user_id=user.id)
    try:
        with db.session.begin_nested():
            db.session.add(support)
            db.session.flush()
    except sa.exc.IntegrityError:
        raise Conflict(_("You already support this proposal.")) from None
    db.session.execute(
        sa.update(Proposal).where(Proposal.id == proposal.id).values(support_count=Proposal.support_count + 1)
    )
    db.session.refresh(proposal, ["support_count"])
    audit.record("proposal.supported", actor=user, subject=proposal)
    return support


def withdraw_support(user: User, proposal: Proposal) -> None:
    _require_support_open(proposal)
    deleted = db.session.execute(
        sa.delete(Support).where(Support.proposal_id == proposal.id, Support.user_id == user.id)
    ).rowcount
    if not deleted:
        raise Conflict(_("You do not support this proposal."))
    db.session.execute(
        sa.update(Proposal).where(Proposal.id == proposal.id).values(support_count=Proposal.support_count - 1)
    )
    db.session.refresh(proposal, ["support_count"])
    audit.record("proposal.support_withdrawn", actor=user, subject=proposal)


def qualifies_for_review(proposal: Proposal) -> bool:
    """A submitted proposal with enough supports (``Cycle.support_threshold``) goes to review."""
    return proposal.support_count >= proposal.cycle.support_threshold


# -- pledges ------------------------------------------------------------------------------------

PLEDGEABLE_STATUSES = (ProposalStatus.SUBMITTED, ProposalStatus.FEASIBLE)


def add_pledge(user: User, proposal: Proposal, *, kind: PledgeKind | str, description: str,
               hours: int | None = None, frequency: PledgeFrequency | str | None = None) -> Pledge:
    """Offer help to deliver a proposal: volunteer time (hours, how often, what) or in-kind resources."""
    if proposal.status not in PLEDGEABLE_STATUSES:
        raise Conflict(_("Help can be pledged to submitted and feasible proposals only."))
    kind = PledgeKind(kind)
    description = (description or "").strip()
    if not description:
        raise InvalidInput(_("Say what you will do or give."), field="description")
    if len(description) > 500:
        raise InvalidInput(_("Keep the description under 500 characters."), field="description")
    if kind == PledgeKind.TIME:
        if not hours or hours < 1 or hours > 10_000:
            raise InvalidInput(_("Say how many hours you can give (1 or more)."), field="hours")
        if not frequency:
            raise InvalidInput(_("Say how often you can give these hours."), field="frequency")
        frequency = PledgeFrequency(frequency)
    else:
        hours, frequency = None, None
    pledge = Pledge(user_id=user.id, kind=kind, hours=hours, frequency=frequency, description=description)
    proposal.pledges.append(pledge)
    db.session.flush()
    audit.record("proposal.pledged", actor=user, subject=proposal, pledge_id=pledge.id, kind=kind.value)
    return pledge


def remove_pledge(user: User, pledge: Pledge) -> None:
    if pledge.user_id != user.id:
        raise NotAllowed(_("Only the person who pledged can take a pledge back."))
    proposal = db.session.get(Proposal, pledge.proposal_id)
    audit.record("proposal.pledge_removed", actor=user, subject=proposal, pledge_id=pledge.id)
    proposal.pledges.remove(pledge)
    db.session.flush()


# -- comments -----------------------------------------------------------------------------------


def add_comment(user: User, proposal: Proposal, body: str, parent: Comment | None = None) -> Comment:
    """Comment on a public proposal, or reply to a comment (a reply to a reply joins its thread)."""
    if proposal.status not in PUBLIC_STATUSES:
        raise Conflict(_("Only public proposals can be discussed."))
    body = _check_comment_body(body)
    replied_to = parent
    if parent is not None:
        if parent.proposal_id != proposal.id:
            raise InvalidInput(_("That comment belongs to another proposal."))
        if parent.parent_id is not None:  # two levels: stay in the thread
            parent = db.session.get(Comment, parent.parent_id)
    comment = Comment(proposal_id=proposal.id, author_id=user.id, parent=parent, body=body,
                      by_proposal_author=is_author(user, proposal))
    db.session.add(comment)
    db.session.flush()
    audit.record("comment.created", actor=user, subject=comment, proposal_id=proposal.id)
    if replied_to is not None:
        notices.comment_replied(comment, replied_to, proposal)
    return comment


def _check_comment_body(body: str) -> str:
    body = (body or "").strip()
    if not body:
        raise InvalidInput(_("Write something first."), field="body")
    if len(body) > 5000:
        raise InvalidInput(_("Keep comments under 5,000 characters."), field="body")
    return body


def can_edit_comment(user: User | None, comment: Comment, now: datetime | None = None) -> bool:
    return (
        user is not None and getattr(user, "id", None) == comment.author_id and not comment.is_hidden
        and (now or utcnow()) - comment.created_at <= COMMENT_EDIT_WINDOW
    )


def edit_comment(user: User, comment: Comment, body: str, now: datetime | None = None) -> Comment:
    """The author changes a comment within 15 minutes of writing it."""
    if user.id != comment.author_id:
        raise NotAllowed(_("You can only edit your own comments."))
    if comment.is_hidden:
        raise Conflict(_("A hidden comment cannot be edited."))
    now = now or utcnow()
    if now - comment.created_at > COMMENT_EDIT_WINDOW:
        raise Conflict(_("Comments can be edited for 15 minutes after writing them. Add a new comment instead."))
    comment.body = _check_comment_body(body)
    comment.edited_at = now
    db.session.flush()
    audit.record("comment.edited", actor=user, subject=comment)
    return comment


def flag_comment(user: User, comment: Comment, reason: str = "") -> CommentFlag:
    """Report a comment to the moderators (once per resident)."""
    if user.id == comment.author_id:
        raise Conflict(_("You cannot report your own comment."))
    flag = CommentFlag(comment_id=comment.id, user_id=user.id, reason=(reason or "").strip()[:300])
    try:
        with db.session.begin_nested():
            db.session.add(flag)
            db.session.flush()
    except sa.exc.IntegrityError:
        raise Conflict(_("You have already reported this comment.")) from None
    db.session.execute(sa.update(Comment).where(Comment.id == comment.id).values(flag_count=Comment.flag_count + 1))
    db.session.refresh(comment, ["flag_count"])
    audit.record("comment.flagged", actor=user, subject=comment)
    return flag


def moderate_comment(moderator: User, comment: Comment, *, hide: bool, reason: str) -> Comment:
    """Hide a comment (shown as "hidden by a moderator") or restore it; a reason is required."""
    if not moderator.has_role(Role.MODERATOR):
        raise NotAllowed(_("Only moderators and staff can hide or restore comments."))
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_("Give a reason: it is kept in the moderation log."), field="reason")
    if hide == comment.is_hidden:
        raise Conflict(_("This comment is already hidden.") if hide else _("This comment is not hidden."))
    if hide:
        comment.hidden_at = utcnow()
        comment.hidden_by_id = moderator.id
        comment.hidden_reason = reason[:500]
    else:
        comment.hidden_at = None
        comment.hidden_by_id = None
        comment.hidden_reason = None
    db.session.flush()
    audit.record("comment.hidden" if hide else "comment.restored", actor=moderator, subject=comment, reason=reason)
    return comment


def comment_threads(proposal: Proposal) -> list[Comment]:
    """Top-level comments, oldest first, with their replies loaded."""
    return list(db.session.scalars(
        sa.select(Comment).where(Comment.proposal_id == proposal.id, Comment.parent_id.is_(None))
        .options(sa.orm.selectinload(Comment.replies).joinedload(Comment.author), sa.orm.joinedload(Comment.author))
        .order_by(Comment.created_at, Comment.id)
    ).unique())


def flagged_comments(cycle: Cycle | None = None) -> list[Comment]:
    """Comments with reports, most reported first (the moderators' queue)."""
    statement = sa.select(Comment).where(Comment.flag_count > 0).order_by(Comment.flag_count.desc(), Comment.id)
    if cycle is not None:
        statement = statement.join(Proposal, Proposal.id == Comment.proposal_id).where(Proposal.cycle_id == cycle.id)
    return list(db.session.scalars(statement))


# -- review -------------------------------------------------------------------------------------


def _frozen_under_lock(budget: Budget) -> bool:
    """Whether ``budget`` is frozen, read under the budget's row lock (PostgreSQL; SQLite serialises writers).

    The first ballot freezes a budget by updating this row, so that ballot has either committed (and
    is seen here) or waits until this review's transaction ends.  Hence no project joins or leaves a
    frozen budget's ballot, nor changes its cost — which lets the cast path keep that ballot cached
    (:func:`pbvote.ballots.services.ballot_snapshot`).
    """
    statement = sa.select(Budget.frozen_at).where(Budget.id == budget.id).with_for_update()
    return db.session.scalar(statement) is not None


def _require_review_open(reviewer: User, proposal: Proposal) -> None:
    if not reviewer.has_role(Role.REVIEWER):
        raise NotAllowed(_("Only reviewers and staff can review proposals."))
    if proposal.status not in REVIEWABLE_STATUSES:
        raise Conflict(_("Only submitted or reviewed proposals can be reviewed."))
    if _frozen_under_lock(proposal.budget):
        raise RulesFrozen(_("Voting has started in this budget: the list of projects on the ballot can no longer change."))
    cycle = proposal.cycle
    if not (cycle.is_in(PhaseKind.SUBMISSION) or cycle.is_in(PhaseKind.REVIEW)):
        raise PhaseClosed(_("Proposals are reviewed during the submission and review phases."))
    if not qualifies_for_review(proposal):
        raise Conflict(_("This proposal has %(have)d of the %(need)d supports it needs to be reviewed.",
                         have=proposal.support_count, need=cycle.support_threshold))


def _record_review(reviewer: User, proposal: Proposal, action: str, before: dict, **data: Any) -> None:
    proposal.reviewed_at = utcnow()
    proposal.reviewed_by_id = reviewer.id
    db.session.flush()
    audit.record(action, actor=reviewer, subject=proposal, before=before, **data)


def _review_state(proposal: Proposal) -> dict:
    return {"status": proposal.status.value, "final_amount": proposal.final_amount,
            "merged_into_id": proposal.merged_into_id}


def mark_feasible(reviewer: User, proposal: Proposal, final_amount: int, explanation: str = "") -> Proposal:
    """Feasible at ``final_amount``; a different amount than the estimate needs a public explanation."""
    _require_review_open(reviewer, proposal)
    explanation = (explanation or "").strip()
    if final_amount is None or final_amount <= 0:
        raise InvalidInput(_("The final cost must be more than zero."), field="final_amount")
    if final_amount > proposal.budget.total_amount:
        raise InvalidInput(_("The final cost is more than the whole budget."), field="final_amount")
    if final_amount != proposal.estimated_amount and not explanation:
        raise InvalidInput(_("Explain publicly why the final cost differs from the estimate."), field="explanation")
    before = _review_state(proposal)
    proposal.status = ProposalStatus.FEASIBLE
    proposal.final_amount = final_amount
    proposal.cost_explanation = explanation or None
    proposal.review_reason = None
    _record_review(reviewer, proposal, "proposal.marked_feasible", before, final_amount=final_amount,
                   explanation=explanation)
    notices.proposal_reviewed(reviewer, proposal)
    return proposal


def mark_unfeasible(reviewer: User, proposal: Proposal, reason: str) -> Proposal:
    """Not feasible, with a public reason."""
    _require_review_open(reviewer, proposal)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_("Give the public reason why this cannot be done."), field="reason")
    before = _review_state(proposal)
    proposal.status = ProposalStatus.UNFEASIBLE
    proposal.final_amount = None
    proposal.cost_explanation = None
    proposal.review_reason = reason
    _record_review(reviewer, proposal, "proposal.marked_unfeasible", before, reason=reason)
    notices.proposal_reviewed(reviewer, proposal)
    return proposal


def merge_proposal(reviewer: User, source: Proposal, target: Proposal, reason: str) -> Proposal:
    """Merge ``source`` into ``target``: supports (each resident once), pledges and authors move over."""
    _require_review_open(reviewer, source)
    reason = (reason or "").strip()
    if target.id == source.id:
        raise InvalidInput(_("A proposal cannot be merged into itself."), field="target")
    if target.cycle_id != source.cycle_id or target.status not in REVIEWABLE_STATUSES:
        raise InvalidInput(_("Merge into a submitted or reviewed proposal of the same cycle."), field="target")
    if _frozen_under_lock(target.budget):
        raise RulesFrozen(_("Voting has started in the target's budget."))
    if not reason:
        raise InvalidInput(_("Explain publicly why these proposals were merged."), field="reason")
    before = _review_state(source)
    # Supports: residents who supported only the source now support the target; nobody counts twice.
    already = sa.select(Support.user_id).where(Support.proposal_id == target.id)
    carried = db.session.execute(
        sa.insert(Support).from_select(
            ["proposal_id", "user_id", "created_at", "carried_from_id"],
            sa.select(sa.literal(target.id), Support.user_id, Support.created_at, sa.literal(source.id))
            .where(Support.proposal_id == source.id, Support.user_id.not_in(already)),
        )
    ).rowcount
    db.session.execute(
        sa.update(Proposal).where(Proposal.id == target.id).values(
            support_count=sa.select(sa.func.count()).where(Support.proposal_id == target.id).scalar_subquery()
        )
    )
    # Pledges move to the target, remembering where they came from.
    db.session.execute(
        sa.update(Pledge).where(Pledge.proposal_id == source.id).values(proposal_id=target.id, carried_from_id=source.id)
    )
    # Authors of the source are credited as co-authors of the target.
    credited = []
    for user_id in sorted(source.author_ids() - target.author_ids()):
        row = next((c for c in target.coauthors if c.user_id == user_id), None)
        if row is None:
            row = Coauthor(user_id=user_id)
            target.coauthors.append(row)
        row.status = CoauthorStatus.ACCEPTED
        row.credited_from_id = source.id
        row.responded_at = utcnow()
        credited.append(user_id)
    source.status = ProposalStatus.MERGED
    source.merged_into_id = target.id
    source.final_amount = None
    source.review_reason = reason
    db.session.flush()
    db.session.expire(target, ["support_count", "pledges"])
    db.session.expire(source, ["pledges"])
    _record_review(reviewer, source, "proposal.merged", before, target_id=target.id, reason=reason,
                   supports_carried=carried, authors_credited=credited)
    notices.proposal_reviewed(reviewer, source, target)
    return target


def review_queue(cycle: Cycle) -> list[Proposal]:
    """Proposals awaiting review (submitted), oldest first, with reviewed ones after them."""
    return list(db.session.scalars(
        sa.select(Proposal).where(Proposal.cycle_id == cycle.id, Proposal.status.in_(REVIEWABLE_STATUSES))
        .order_by(sa.case((Proposal.status == ProposalStatus.SUBMITTED, 0), else_=1), Proposal.submitted_at, Proposal.id)
    ))


def ballot_proposals(budget: Budget) -> list[Proposal]:
    """The proposals on a budget's ballot: its feasible proposals, ordered by id."""
    return list(db.session.scalars(
        sa.select(Proposal).where(Proposal.budget_id == budget.id, Proposal.status == ProposalStatus.FEASIBLE)
        .order_by(Proposal.id)
    ))


# -- browsing -----------------------------------------------------------------------------------

SORTS = ("newest", "supported", "random")
#: A prime above any id we will see; ``id * seed mod P`` is then a per-visitor permutation.
RANDOM_PRIME = 2_147_483_647


def new_random_seed() -> int:
    return secrets.randbelow(RANDOM_PRIME - 2) + 2


@dataclass(frozen=True)
class ProposalQuery:
    text: str = ""
    budget_id: int | None = None
    category_id: int | None = None
    status: ProposalStatus | None = None
    sort: str = "newest"
    seed: int = 1


def search_statement(cycle: Cycle, query: ProposalQuery) -> sa.Select:
    """The SELECT behind the proposal list: public proposals of a cycle, filtered and sorted."""
    statement = sa.select(Proposal).where(Proposal.cycle_id == cycle.id)
    if query.status is not None and query.status in PUBLIC_STATUSES:
        statement = statement.where(Proposal.status == query.status)
    else:
        statement = statement.where(Proposal.status.in_(PUBLIC_STATUSES))
    if query.budget_id:
        statement = statement.where(Proposal.budget_id == query.budget_id)
    if query.category_id:
        statement = statement.where(Proposal.category_id == query.category_id)
    text = query.text.strip()[:200]
    if text:
        if db.session.get_bind().dialect.name == "postgresql":
            statement = statement.where(search_document().op("@@")(sa.func.plainto_tsquery("simple", text)))
        else:
            for word in text.lower().split()[:8]:
                pattern = "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
                statement = statement.where(sa.or_(sa.func.lower(Proposal.title).like(pattern, escape="\\"),
                                                   sa.func.lower(Proposal.body).like(pattern, escape="\\")))
    if query.sort == "supported":
        statement = statement.order_by(Proposal.support_count.desc(), Proposal.id.desc())
    elif query.sort == "random":
        statement = statement.order_by((Proposal.id * sa.literal(query.seed, sa.BigInteger)) % RANDOM_PRIME, Proposal.id)
    else:
        statement = statement.order_by(Proposal.created_at.desc(), Proposal.id.desc())
    return statement
