"""Site pages: the home page, each cycle's public page, and the health check.

Above the domains, like ``create_app``: a cycle's public page shows the cycle (its timeline and
budgets) and its proposals (how many, the most supported), so it belongs to no single domain.
"""
from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, jsonify, render_template

from pbvote.auth.session import public
from pbvote.cycles import services as cycle_services
from pbvote.extensions import db
from pbvote.proposals import services as proposal_services
from pbvote.proposals.models import ProposalStatus
from pbvote.results.publication import live_publications

bp = Blueprint("main", __name__)


@bp.route("/")
@public
def index():
    cycles = cycle_services.list_public_cycles()
    return render_template("main/index.html", cycles=cycles, overview=proposal_services.cycle_overview)


@bp.route("/cycles/<slug>")
@public
def cycle(slug: str):
    cycle = cycle_services.get_public_cycle(slug) or abort(404)
    return render_template(
        "main/cycle.html", cycle=cycle, overview=proposal_services.cycle_overview(cycle),
        proposals=proposal_services.most_supported(cycle, limit=10), feasible_status=ProposalStatus.FEASIBLE,
        results=live_publications(cycle) if cycle.voting_has_closed() else {},
    )


@bp.route("/healthz")
@public
def healthz():
    """For load balancers: 200 when the app can reach its database, 503 otherwise.

    Asked on a connection of its own, outside the request's unit of work."""
    try:
        with db.engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")
    except sa.exc.SQLAlchemyError:
        return jsonify(status="unavailable", database="unreachable"), 503
    return jsonify(status="ok", database="ok")
