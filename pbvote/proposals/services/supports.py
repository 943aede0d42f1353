"""Supports and pledges.

* Supports: one per resident per proposal (a unique constraint backs this), only for submitted
  proposals during submission; ``support_count`` moves with them in the same statement.  A proposal
  with at least ``Cycle.support_threshold`` supports qualifies for review.
* Pledges: help offered to deliver a submitted or feasible proposal — volunteer time (hours, how
  often) or in-kind resources; taken back only by the person who pledged.
"""
from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext as _

from pbvote import audit
from pbvote.auth.models import User
from pbvote.cycles.models import PhaseKind
from pbvote.errors import Conflict, InvalidInput, NotAllowed, PhaseClosed
from pbvote.extensions import db
from pbvote.proposals.models import Pledge, PledgeFrequency, PledgeKind, Proposal, ProposalStatus, Support


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
