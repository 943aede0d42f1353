"""Site-wide pages: the home page and the health check."""
from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, jsonify, render_template

from pbvote.auth.session import public
from pbvote.cycles import services as cycle_services
from pbvote.extensions import db

bp = Blueprint("main", __name__)


@bp.route("/")
@public
def index():
    cycles = cycle_services.list_public_cycles()
    return render_template("main/index.html", cycles=cycles, overview=cycle_services.cycle_overview)


@bp.route("/healthz")
@public
def healthz():
    """For load balancers: 200 when the app can reach its database, 503 otherwise."""
    try:
        db.session.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError:
        db.session.rollback()
        return jsonify(status="unavailable", database="unreachable"), 503
    return jsonify(status="ok", database="ok")
