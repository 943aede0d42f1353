"""Review (reviewers and staff), during submission or review, before voting freezes the budget:
feasible with a final cost (explained when it differs from the estimate), unfeasible with a public
reason, or merged into another proposal (supports carried over without counting anyone twice,
pledges carried over, authors credited as co-authors).  Only feasible proposals go on the ballot."""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _

from pbvote import audit
from pbvote.auth.models import Role, User
from pbvote.cycles.models import Budget, Cycle, PhaseKind
from pbvote.errors import Conflict, InvalidInput, NotAllowed, PhaseClosed, RulesFrozen
from pbvote.extensions import db
from pbvote.proposals import notices
from pbvote.proposals.models import Coauthor, CoauthorStatus, Pledge, Proposal, ProposalStatus, Support
from pbvote.proposals.services.supports import qualifies_for_review
from pbvote.timeutil import utcnow

REVIEWABLE_STATUSES = (ProposalStatus.SUBMITTED, ProposalStatus.FEASIBLE, ProposalStatus.UNFEASIBLE)


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
