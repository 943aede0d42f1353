"""Co-authors: the authors invite residents (by e-mail address or display name), who accept or decline."""
from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext as _

from pbvote import audit
from pbvote.auth.models import User
from pbvote.errors import Conflict, InvalidInput, NotAllowed, NotFound
from pbvote.extensions import db
from pbvote.proposals import notices
from pbvote.proposals.models import Coauthor, CoauthorStatus, Proposal
from pbvote.proposals.services.access import require_editor
from pbvote.timeutil import utcnow


def invite_coauthor(user: User, proposal: Proposal, who: str) -> Coauthor:
    """Invite a resident, named by e-mail address or display name, to co-author the proposal."""
    require_editor(user, proposal)
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
