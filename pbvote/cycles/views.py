"""Public cycle pages."""
from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, render_template

from pbvote.auth.session import public
from pbvote.cycles import services
from pbvote.extensions import db
from pbvote.proposals.models import PUBLIC_STATUSES, Proposal

bp = Blueprint("cycles", __name__, url_prefix="/cycles")


@bp.route("/<slug>")
@public
def show(slug: str):
    cycle = services.get_public_cycle(slug) or abort(404)
    proposals = db.session.scalars(
        sa.select(Proposal)
        .where(Proposal.cycle_id == cycle.id, Proposal.status.in_(PUBLIC_STATUSES))
        .order_by(Proposal.support_count.desc(), Proposal.id)
        .limit(100)
    ).all()
    return render_template(
        "cycles/show.html", cycle=cycle, overview=services.cycle_overview(cycle), proposals=proposals
    )
