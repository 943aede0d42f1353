"""Implementation tracking: the rules.

Only a project funded by its budget's *live* publication, once voting has closed, is tracked
(:func:`require_funded`); its record is made on the first change (:func:`implementation_for`), and
until then it counts as planned.  A cancellation needs its public reason; "done" means 100 % and a
finish date (today unless given).  Every change is audited; services flush, never commit.  Photos
reuse the proposals' picture checks and after-commit file writes (:mod:`pbvote.proposals.services.images`).
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from datetime import date
from typing import BinaryIO

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from pbvote import audit, unit_of_work
from pbvote.auth.models import User
from pbvote.cycles.models import Budget, Cycle
from pbvote.errors import Conflict, InvalidInput, NotAllowed
from pbvote.extensions import db
from pbvote.proposals.models import Pledge, Proposal
from pbvote.proposals.services.images import delete_file, new_stored_name, read_checked_image, write_file
from pbvote.results.implementation.models import (
    Implementation, ImplementationPhoto, ImplementationStatus, Milestone, PledgeFulfilment,
)
from pbvote.results.models import Publication, PublishedProject
from pbvote.results.publication import live_publication
from pbvote.results.services import voting_closed
from pbvote.timeutil import utcnow

MAX_PHOTOS_PER_PROJECT = 12
MAX_MILESTONES_PER_PROJECT = 50


# -- which projects are tracked --------------------------------------------------------------------


def funded_line(proposal: Proposal) -> PublishedProject | None:
    """The proposal's line in its budget's live publication if that publication funds it, else None
    (before publication, while voting is open, or not funded)."""
    budget = proposal.budget
    if budget is None or not voting_closed(budget):
        return None
    live = live_publication(budget)
    if live is None:
        return None
    return next((line for line in live.projects if line.proposal_id == proposal.id and line.funded), None)


def require_funded(proposal: Proposal) -> PublishedProject:
    """The proposal's funded line, or :class:`NotAllowed`: only funded projects are tracked."""
    line = funded_line(proposal)
    if line is None:
        raise NotAllowed(_("Only projects funded by a published result are tracked."))
    return line


def find_implementation(proposal: Proposal) -> Implementation | None:
    return db.session.scalar(sa.select(Implementation).where(Implementation.proposal_id == proposal.id))


def implementation_for(proposal: Proposal) -> Implementation:
    """The funded proposal's record, made (planned, 0 %) the first time it is needed."""
    require_funded(proposal)
    implementation = find_implementation(proposal)
    if implementation is None:
        implementation = Implementation(proposal=proposal, status=ImplementationStatus.PLANNED, progress_percent=0,
                                        public_note="")
        db.session.add(implementation)
        db.session.flush()
    return implementation


@dataclass
class FundedProject:
    """A funded project as the implementation pages show it (``implementation`` None: not started
    being tracked, shown as planned)."""

    proposal: Proposal
    line: PublishedProject
    implementation: Implementation | None
    pledges: list[Pledge] = field(default_factory=list)
    fulfilments: dict[int, PledgeFulfilment] = field(default_factory=dict)

    @property
    def status(self) -> ImplementationStatus:
        return self.implementation.status if self.implementation else ImplementationStatus.PLANNED

    @property
    def progress(self) -> int:
        return self.implementation.progress_percent if self.implementation else 0

    @property
    def milestones(self) -> list[Milestone]:
        return self.implementation.milestones if self.implementation else []

    @property
    def photos(self) -> list[ImplementationPhoto]:
        return self.implementation.photos if self.implementation else []

    @property
    def pledges_fulfilled(self) -> int:
        return sum(1 for pledge in self.pledges if pledge.id in self.fulfilments)


@dataclass(frozen=True)
class Summary:
    """Promised against delivered, for a cycle: projects by status and money."""

    projects: int
    by_status: dict[ImplementationStatus, int]
    funded_amount: int
    delivered_amount: int
    cancelled_amount: int
    pledges: int
    pledges_fulfilled: int
    milestones: int
    milestones_done: int


def funded_lines_statement(cycle: Cycle) -> sa.Select:
    """The lines of the cycle's live publications that fund a project, budget by budget in the
    order the rule chose them (callers check that voting has closed)."""
    return (
        sa.select(PublishedProject)
        .join(Publication, Publication.id == PublishedProject.publication_id)
        .join(Budget, Budget.id == Publication.budget_id)
        .where(Budget.cycle_id == cycle.id, Publication.superseded_at.is_(None), PublishedProject.funded.is_(True))
        .order_by(Budget.position, Budget.id, PublishedProject.position)
    )


def has_funded_projects(cycle: Cycle) -> bool:
    """True once a live publication of ``cycle`` (voting closed) funds a project: one query."""
    if not cycle.voting_has_closed():
        return False
    statement = funded_lines_statement(cycle).order_by(None).with_only_columns(sa.literal(True)).limit(1)
    return db.session.scalar(statement) is not None


def projects_for_lines(lines: list[PublishedProject]) -> list[FundedProject]:
    """The :class:`FundedProject` of each funded line, with records, pledges and fulfilments loaded
    in three queries."""
    if not lines:
        return []
    ids = [line.proposal_id for line in lines]
    records = {i.proposal_id: i for i in db.session.scalars(sa.select(Implementation).where(Implementation.proposal_id.in_(ids)))}
    pledges = list(db.session.scalars(sa.select(Pledge).where(Pledge.proposal_id.in_(ids)).order_by(Pledge.id)))
    fulfilled = {f.pledge_id: f for f in db.session.scalars(
        sa.select(PledgeFulfilment).where(PledgeFulfilment.pledge_id.in_([p.id for p in pledges] or [0])))}
    projects = []
    for line in lines:
        own = [p for p in pledges if p.proposal_id == line.proposal_id]
        projects.append(FundedProject(
            proposal=line.proposal, line=line, implementation=records.get(line.proposal_id), pledges=own,
            fulfilments={p.id: fulfilled[p.id] for p in own if p.id in fulfilled},
        ))
    return projects


def funded_projects(cycle: Cycle) -> list[FundedProject]:
    """Every project funded by a live publication of the cycle (budget by budget, in the order the
    rule chose them), with its record, pledges and which pledges were fulfilled; none before voting
    has closed."""
    if not cycle.voting_has_closed():
        return []
    return projects_for_lines(list(db.session.scalars(funded_lines_statement(cycle))))


def summarize(projects: list[FundedProject]) -> Summary:
    by_status = {status: 0 for status in ImplementationStatus}
    for project in projects:
        by_status[project.status] += 1
    return Summary(
        projects=len(projects),
        by_status=by_status,
        funded_amount=sum(p.line.cost_amount for p in projects),
        delivered_amount=sum(p.line.cost_amount for p in projects if p.status is ImplementationStatus.DONE),
        cancelled_amount=sum(p.line.cost_amount for p in projects if p.status is ImplementationStatus.CANCELLED),
        pledges=sum(len(p.pledges) for p in projects),
        pledges_fulfilled=sum(p.pledges_fulfilled for p in projects),
        milestones=sum(len(p.milestones) for p in projects),
        milestones_done=sum(1 for p in projects for m in p.milestones if m.is_done),
    )


def fulfilment_of(pledge: Pledge) -> PledgeFulfilment | None:
    return db.session.get(PledgeFulfilment, pledge.id)


# -- status, progress, dates -------------------------------------------------------------------------


def update_implementation(
    actor: User,
    proposal: Proposal,
    *,
    status: ImplementationStatus,
    progress_percent: int,
    started_on: date | None = None,
    expected_on: date | None = None,
    finished_on: date | None = None,
    public_note: str = "",
    cancellation_reason: str | None = None,
    today: date | None = None,
) -> Implementation:
    """Set a funded project's status, progress, dates and public note.

    A cancellation needs a reason (kept only while cancelled); "done" sets the progress to 100 % and
    the finish date to today unless given; a planned project has 0 % and no finish date; dates are in
    order (start ≤ expected, start ≤ finished).
    """
    require_funded(proposal)
    today = today or utcnow().date()
    if not 0 <= progress_percent <= 100:
        raise InvalidInput(_("Progress is a percentage between 0 and 100."), field="progress_percent")
    reason = (cancellation_reason or "").strip() or None
    if status is ImplementationStatus.CANCELLED and reason is None:
        raise InvalidInput(_("Say publicly why the project was cancelled."), field="cancellation_reason")
    if status is not ImplementationStatus.CANCELLED:
        reason = None
    if status is ImplementationStatus.DONE:
        progress_percent = 100
        finished_on = finished_on or today
    elif finished_on is not None and status is not ImplementationStatus.CANCELLED:
        raise InvalidInput(_("Only a finished project has a finish date."), field="finished_on")
    if status is ImplementationStatus.PLANNED and progress_percent:
        raise InvalidInput(_("A planned project has not progressed yet: set it in progress."), field="progress_percent")
    if started_on and expected_on and expected_on < started_on:
        raise InvalidInput(_("The expected end cannot be before the start."), field="expected_on")
    if finished_on and finished_on > today:
        raise InvalidInput(_("The finish date cannot be in the future."), field="finished_on")
    if started_on and finished_on and finished_on < started_on:
        raise InvalidInput(_("The finish date cannot be before the start."), field="finished_on")
    implementation = implementation_for(proposal)
    before = _state(implementation)
    implementation.status = status
    implementation.progress_percent = progress_percent
    implementation.started_on = started_on
    implementation.expected_on = expected_on
    implementation.finished_on = finished_on
    implementation.public_note = (public_note or "").strip()
    implementation.cancellation_reason = reason
    implementation.updated_by_id = actor.id
    after = _state(implementation)
    changed = {key: [before[key], after[key]] for key in after if before[key] != after[key]}
    audit.record("implementation.updated", actor=actor, subject=implementation, proposal_id=proposal.id,
                 changed=changed)
    db.session.flush()
    return implementation


def _state(implementation: Implementation) -> dict:
    return {
        "status": implementation.status.value, "progress_percent": implementation.progress_percent,
        "started_on": _iso(implementation.started_on), "expected_on": _iso(implementation.expected_on),
        "finished_on": _iso(implementation.finished_on), "public_note": implementation.public_note,
        "cancellation_reason": implementation.cancellation_reason,
    }


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


# -- milestones --------------------------------------------------------------------------------------


def _milestone_values(title: str, note: str, done_on: date | None) -> tuple[str, str]:
    title = (title or "").strip()
    if not title:
        raise InvalidInput(_("Give the milestone a title."), field="title")
    if done_on is not None and done_on > utcnow().date():
        raise InvalidInput(_("A milestone cannot be done on a date still to come."), field="done_on")
    return title[:160], (note or "").strip()


def add_milestone(actor: User, proposal: Proposal, *, title: str, due_on: date | None = None,
                  done_on: date | None = None, note: str = "") -> Milestone:
    """Add a milestone to a funded project (done already if ``done_on`` is given)."""
    require_funded(proposal)
    title, note = _milestone_values(title, note, done_on)
    implementation = implementation_for(proposal)
    if len(implementation.milestones) >= MAX_MILESTONES_PER_PROJECT:
        raise Conflict(_("A project can have at most %(n)d milestones.", n=MAX_MILESTONES_PER_PROJECT), field="title")
    milestone = Milestone(title=title, due_on=due_on, done_on=done_on, note=note)
    implementation.milestones.append(milestone)
    db.session.flush()
    audit.record("implementation.milestone_added", actor=actor, subject=implementation, milestone_id=milestone.id,
                 title=title, due_on=_iso(due_on), done_on=_iso(done_on))
    return milestone


def _tracked(milestone_or_photo) -> Implementation:
    implementation = milestone_or_photo.implementation
    require_funded(implementation.proposal)
    return implementation


def update_milestone(actor: User, milestone: Milestone, *, title: str, due_on: date | None,
                     done_on: date | None, note: str = "") -> Milestone:
    """Change a milestone's title, dates or note (clearing ``done_on`` reopens it)."""
    title, note = _milestone_values(title, note, done_on)
    implementation = _tracked(milestone)
    milestone.title, milestone.due_on, milestone.done_on, milestone.note = title, due_on, done_on, note
    audit.record("implementation.milestone_updated", actor=actor, subject=implementation, milestone_id=milestone.id,
                 title=title, due_on=_iso(due_on), done_on=_iso(done_on))
    db.session.flush()
    return milestone


def complete_milestone(actor: User, milestone: Milestone, *, done_on: date | None = None) -> Milestone:
    """Mark a milestone done (today unless ``done_on`` says otherwise)."""
    implementation = _tracked(milestone)
    if milestone.done_on is not None:
        raise Conflict(_("This milestone is already done."))
    if done_on is not None and done_on > utcnow().date():
        raise InvalidInput(_("A milestone cannot be done on a date still to come."), field="done_on")
    milestone.done_on = done_on or utcnow().date()
    audit.record("implementation.milestone_done", actor=actor, subject=implementation, milestone_id=milestone.id,
                 done_on=_iso(milestone.done_on))
    db.session.flush()
    return milestone


def delete_milestone(actor: User, milestone: Milestone) -> None:
    implementation = _tracked(milestone)
    audit.record("implementation.milestone_deleted", actor=actor, subject=implementation, milestone_id=milestone.id,
                 title=milestone.title)
    implementation.milestones.remove(milestone)
    db.session.flush()


# -- photos --------------------------------------------------------------------------------------------


def photo_dir() -> str:
    return os.path.join(current_app.config["PBVOTE_UPLOAD_DIR"], "implementation")


def photo_path(photo: ImplementationPhoto) -> str:
    return os.path.join(photo_dir(), photo.stored_name)


def add_photo(actor: User, proposal: Proposal, stream: BinaryIO, alt_text: str) -> ImplementationPhoto:
    """Add a photo of the work (alt text required; type by content and size checked as for a
    proposal's pictures); its file is written once the row is committed."""
    require_funded(proposal)
    alt_text = (alt_text or "").strip()
    if not alt_text:
        raise InvalidInput(_("Say what the photo shows, for people who cannot see it."), field="alt_text")
    implementation = implementation_for(proposal)
    if len(implementation.photos) >= MAX_PHOTOS_PER_PROJECT:
        raise Conflict(_("A project can have at most %(n)d photos.", n=MAX_PHOTOS_PER_PROJECT), field="photo")
    data, content_type = read_checked_image(stream, field="photo")
    photo = ImplementationPhoto(stored_name=new_stored_name(content_type), content_type=content_type,
                                size_bytes=len(data), alt_text=alt_text[:200], uploaded_by_id=actor.id)
    implementation.photos.append(photo)
    db.session.flush()
    path = photo_path(photo)
    audit.record("implementation.photo_added", actor=actor, subject=implementation, photo_id=photo.id,
                 sha256=hashlib.sha256(data).hexdigest(), content_type=content_type)
    unit_of_work.after_commit(lambda: write_file(path, data))
    return photo


def remove_photo(actor: User, photo: ImplementationPhoto) -> None:
    """Remove a photo; its file is deleted once the removal is committed."""
    implementation = _tracked(photo)
    path = photo_path(photo)
    audit.record("implementation.photo_removed", actor=actor, subject=implementation, photo_id=photo.id)
    implementation.photos.remove(photo)
    db.session.flush()
    unit_of_work.after_commit(lambda: delete_file(path))


# -- pledges -------------------------------------------------------------------------------------------


def set_pledge_fulfilled(actor: User, pledge: Pledge, fulfilled: bool, note: str = "") -> PledgeFulfilment | None:
    """Mark a pledge of a funded project fulfilled (with an optional public note), or not fulfilled."""
    proposal = db.session.get(Proposal, pledge.proposal_id)
    require_funded(proposal)
    current = fulfilment_of(pledge)
    note = (note or "").strip()[:500]
    if fulfilled:
        if current is None:
            current = PledgeFulfilment(pledge_id=pledge.id, fulfilled_at=utcnow(), note=note, recorded_by_id=actor.id)
            db.session.add(current)
        else:
            current.note, current.recorded_by_id = note, actor.id
        audit.record("implementation.pledge_fulfilled", actor=actor, subject=pledge, proposal_id=proposal.id, note=note)
    else:
        if current is not None:
            db.session.delete(current)
            current = None
        audit.record("implementation.pledge_unfulfilled", actor=actor, subject=pledge, proposal_id=proposal.id)
    db.session.flush()
    return current
