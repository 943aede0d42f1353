"""What the proposals domain tells people, through :mod:`pbvote.notifications`.

* An invitation to co-author: the invitee.
* A reply to a comment: the author of the comment replied to.
* A review outcome (feasible, not feasible, merged): the proposal's authors and co-authors.

And who took part in a cycle, as far as proposals know: whoever wrote, co-authors (accepted),
supported or commented a proposal of it (registered with
:mod:`pbvote.notifications.participants` when this module is imported, which
:mod:`pbvote.proposals.services` does).  The services call these functions after their change is
flushed, in the same transaction.
"""
from __future__ import annotations

import sqlalchemy as sa

from pbvote.auth.models import User
from pbvote.notifications import participants
from pbvote.notifications.kinds import NotificationKind
from pbvote.notifications.links import link_to
from pbvote.notifications.services import deliver, notify
from pbvote.proposals.models import Coauthor, CoauthorStatus, Comment, Proposal, Support

#: Characters of a reply quoted in its e-mail.
EXCERPT_LENGTH = 300


def cycle_participants(cycle_id: int) -> sa.Select:
    """User ids of the authors, accepted co-authors, supporters and commenters of the cycle's proposals."""
    in_cycle = sa.select(Proposal.id).where(Proposal.cycle_id == cycle_id)
    return sa.union(
        sa.select(Proposal.author_id).where(Proposal.cycle_id == cycle_id),
        sa.select(Coauthor.user_id).where(Coauthor.proposal_id.in_(in_cycle), Coauthor.status == CoauthorStatus.ACCEPTED),
        sa.select(Support.user_id).where(Support.proposal_id.in_(in_cycle)),
        sa.select(Comment.author_id).where(Comment.proposal_id.in_(in_cycle)),
    )


participants.register("proposals", cycle_participants)


def _authors(proposal: Proposal) -> list[User]:
    return [proposal.author] + [c.user for c in proposal.coauthors if c.status == CoauthorStatus.ACCEPTED]


def coauthor_invited(inviter: User, invitation: Coauthor) -> None:
    proposal = invitation.proposal
    notify(invitation.user, NotificationKind.COAUTHOR_INVITED, link_to("proposals.mine"), actor=inviter,
           subject=proposal, proposal=proposal.title)


def comment_replied(reply: Comment, replied_to: Comment, proposal: Proposal) -> None:
    excerpt = reply.body if len(reply.body) <= EXCERPT_LENGTH else reply.body[:EXCERPT_LENGTH - 1] + "…"
    notify(replied_to.author, NotificationKind.COMMENT_REPLY,
           link_to("proposals.show", proposal_id=proposal.id, _anchor=f"comment-{reply.id}"),
           actor=reply.author, subject=reply, proposal=proposal.title, excerpt=excerpt)


def proposal_reviewed(reviewer: User, proposal: Proposal, target: Proposal | None = None) -> None:
    """Tell the authors of ``proposal`` how its review came out (``target``: what it was merged into)."""
    params = {"proposal": proposal.title, "outcome": proposal.status.value}
    if target is not None:
        params["target"] = target.title
    else:
        params.update(final_amount=proposal.final_amount, currency=proposal.cycle.currency,
                      explanation=proposal.cost_explanation or "", reason=proposal.review_reason or "")
    shown = target if target is not None else proposal
    deliver(_authors(proposal), NotificationKind.PROPOSAL_REVIEWED, link_to("proposals.show", proposal_id=shown.id),
            actor=reviewer, subject=proposal, params=params)
