"""Writing a proposal: create a draft, edit it, submit it (it goes public), withdraw it.

A resident may be the main author of at most ``Cycle.max_proposals_per_resident`` proposals of a
cycle (withdrawn ones do not count).
"""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _

from pbvote import audit
from pbvote.auth.models import User
from pbvote.cycles.models import Budget, Category, Cycle
from pbvote.errors import Conflict, InvalidInput, NotAllowed
from pbvote.extensions import db
from pbvote.proposals.models import Proposal, ProposalStatus
from pbvote.proposals.services.access import require_editor, require_submission_phase
from pbvote.timeutil import utcnow

PROPOSAL_FIELDS = ("title", "body", "estimated_amount", "budget", "category", "address", "latitude", "longitude")


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
    require_submission_phase(cycle)
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
    require_editor(user, proposal)
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
    require_editor(user, proposal)
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
    require_editor(user, proposal)
    proposal.status = ProposalStatus.WITHDRAWN
    db.session.flush()
    audit.record("proposal.withdrawn", actor=user, subject=proposal)
    return proposal


def check_budget_removable(budget: Budget) -> None:
    """Refuse to lose a budget that proposals ask for (asked by the cycles domain before it removes
    one: :data:`pbvote.cycles.signals.budget_removing`, connected in :mod:`pbvote.proposals.listeners`)."""
    if db.session.scalar(sa.select(sa.func.count()).where(Proposal.budget_id == budget.id)):
        raise Conflict(_("This budget has proposals: move or remove them first."))
