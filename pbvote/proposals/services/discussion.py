"""Discussion and moderation: comments in two levels, edited by their author for 15 minutes, flagged
by residents, hidden or restored (with a reason) by moderators and staff."""
from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _

from pbvote import audit
from pbvote.auth.models import Role, User
from pbvote.cycles.models import Cycle
from pbvote.errors import Conflict, InvalidInput, NotAllowed
from pbvote.extensions import db
from pbvote.proposals import notices
from pbvote.proposals.models import PUBLIC_STATUSES, Comment, CommentFlag, Proposal
from pbvote.proposals.services.access import is_author
from pbvote.timeutil import utcnow

COMMENT_EDIT_WINDOW = timedelta(minutes=15)


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
