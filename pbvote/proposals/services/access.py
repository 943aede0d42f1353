"""Who may see and change a proposal, and when (the rules every other proposals service applies).

* Public proposals (:data:`~pbvote.proposals.models.PUBLIC_STATUSES`) are visible to all; drafts and
  withdrawn ones to their authors, invited co-authors and staff.
* Proposals are written (created, edited, submitted, given images and co-authors) while the cycle
  is in its submission phase, and edited only as draft or submitted — review ends editing.
"""
from __future__ import annotations

from flask_babel import gettext as _

from pbvote.auth.models import Role, User
from pbvote.cycles.models import Cycle, PhaseKind
from pbvote.errors import NotAllowed, PhaseClosed
from pbvote.proposals.models import PUBLIC_STATUSES, CoauthorStatus, Proposal, ProposalStatus

EDITABLE_STATUSES = (ProposalStatus.DRAFT, ProposalStatus.SUBMITTED)


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


def require_submission_phase(cycle: Cycle) -> None:
    if not cycle.is_in(PhaseKind.SUBMISSION):
        raise PhaseClosed(_("Proposals can only be written and changed while the cycle is collecting proposals."))


def require_editor(user: User, proposal: Proposal) -> None:
    if not is_author(user, proposal):
        raise NotAllowed(_("Only the authors of a proposal can change it."))
    if proposal.status not in EDITABLE_STATUSES:
        raise PhaseClosed(_("This proposal has been reviewed and can no longer be changed."))
    require_submission_phase(proposal.cycle)
