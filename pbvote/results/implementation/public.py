"""The public side of implementation tracking: a cycle's page of promised against delivered, the
photos, and a project's status on its own page (the ``proposal_implementation`` template global).

Nothing shows before a result is published: the page answers 404 until a live publication of the
cycle funds a project, and a photo only while its project is funded.
"""
from __future__ import annotations

import os

import sqlalchemy as sa
from flask import Blueprint, abort, render_template

from pbvote.auth.session import public
from pbvote.cycles.models import Cycle
from pbvote.extensions import db
from pbvote.proposals.services.images import image_response
from pbvote.results.implementation import services
from pbvote.results.implementation.labels import page_helpers
from pbvote.results.implementation.models import ImplementationPhoto, ImplementationStatus
from pbvote.results.publication import live_publications

bp = Blueprint("implementation_public", __name__)


def public_cycle(slug: str) -> Cycle | None:
    return db.session.scalar(sa.select(Cycle).where(Cycle.slug == slug, Cycle.is_published.is_(True)))


@bp.route("/cycles/<slug>/implementation")
@public
def show(slug: str):
    """Every funded project of the cycle: status, progress, milestones, photos, pledges fulfilled,
    and the cycle's summary (projects by status, money delivered against funded)."""
    cycle = public_cycle(slug) or abort(404)
    projects = services.funded_projects(cycle)
    if not projects:
        abort(404)
    return render_template(
        "implementation/public.html", cycle=cycle, projects=projects, summary=services.summarize(projects),
        statuses=ImplementationStatus, results=live_publications(cycle), **page_helpers(),
    )


@bp.route("/implementation-photos/<id:photo_id>")
@public
def photo(photo_id: int):
    photo = db.get_or_404(ImplementationPhoto, photo_id)
    proposal = photo.implementation.proposal
    if not proposal.cycle.is_published or services.funded_line(proposal) is None:
        abort(404)
    extension = os.path.splitext(photo.stored_name)[1]
    return image_response(services.photo_path(photo), photo.content_type,
                          f"project-{proposal.id}-photo-{photo.id}{extension}")


@bp.app_template_global()
def proposal_implementation(proposal) -> services.FundedProject | None:
    """The funded project's implementation for its page (None unless a published result funds it).
    A template global because proposals, below results, cannot ask for it."""
    line = services.funded_line(proposal)
    if line is None:
        return None
    return services.FundedProject(proposal=proposal, line=line, implementation=services.find_implementation(proposal),
                                  pledges=list(proposal.pledges),
                                  fulfilments={p.id: f for p in proposal.pledges if (f := services.fulfilment_of(p))})


@bp.app_template_global()
def implementation_tracked(cycle) -> bool:
    """True when a published result of ``cycle`` funds at least one project (its implementation page exists)."""
    return services.has_funded_projects(cycle)
