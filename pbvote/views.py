"""Site pages: the home page, each cycle's public page, the language switch and the health check.

Above the domains, like ``create_app``: a cycle's public page shows the cycle (its timeline and
budgets) and its proposals (how many, the most supported), so it belongs to no single domain.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask import Blueprint, abort, jsonify, redirect, render_template, request, url_for
from flask_login import current_user

from pbvote.auth import services as auth_services
from pbvote.auth.session import public
from pbvote.auth.views import is_safe_next
from pbvote.ballots import services as ballot_services
from pbvote.ballots.services import VotingProgress
from pbvote.ballots.views import current_voter
from pbvote.cycles.models import PhaseKind
from pbvote.cycles import services as cycle_services
from pbvote.extensions import db
from pbvote.i18n import offered, offered_languages, remember_language
from pbvote.proposals import services as proposal_services
from pbvote.proposals.models import ProposalStatus
from pbvote.results.publication import live_publications
from pbvote.timeutil import utcnow

bp = Blueprint("main", __name__)


@dataclass(frozen=True)
class VoteCall:
    """The call to vote on a cycle's card and page: until when, and how far the visitor is
    (``progress.eligible`` is 0 while they are not known: not signed in, no access code)."""

    ends_at: datetime
    progress: VotingProgress

    @property
    def voted(self) -> int:
        return self.progress.voted

    @property
    def eligible(self) -> int:
        return self.progress.eligible


def vote_call(cycle) -> VoteCall | None:
    """While ``cycle`` is voting, its :class:`VoteCall`; else None (no call to vote)."""
    if not cycle.is_in(PhaseKind.VOTING):
        return None
    voter = current_voter()
    progress = VotingProgress(voted=0, eligible=0)
    if voter is not None:
        progress = ballot_services.voting_progress(ballot_services.voting_overview(cycle, voter))
    return VoteCall(cycle.phase(PhaseKind.VOTING).ends_at, progress)


@bp.route("/")
@public
def index():
    cycles = cycle_services.list_public_cycles()
    return render_template(
        "main/index.html", cycles=cycles, overview=proposal_services.cycle_overview, vote_call=vote_call
    )


@bp.route("/cycles/<slug>")
@public
def cycle(slug: str):
    cycle = cycle_services.get_public_cycle(slug) or abort(404)
    return render_template(
        "main/cycle.html", cycle=cycle, overview=proposal_services.cycle_overview(cycle),
        proposals=proposal_services.most_supported(cycle, limit=10), feasible_status=ProposalStatus.FEASIBLE,
        results=live_publications(cycle) if cycle.voting_has_closed() else {},
        vote=vote_call(cycle), submission_phase=cycle.phase(PhaseKind.SUBMISSION), now=utcnow(),
    )


@bp.route("/language", methods=["GET", "POST"])
@public
def set_language():
    """The header's language switcher: keep the chosen language in a cookie and, when the choice is
    POSTed by a signed-in person (a form with its CSRF token), on their account too; then back to
    the page they were on.

    Anonymous visitors' headers are kept per language (no CSRF token in them), so they switch with
    a link (GET): it changes nothing but their own cookie.  A signed-in person's saved language
    comes before the cookie, so a GET by them changes their account's language only through the
    form."""
    values = request.form if request.method == "POST" else request.args
    code = offered(values.get("language"))
    if code is None:
        abort(400)
    if request.method == "POST" and current_user.is_authenticated:
        auth_services.set_language(current_user, code, offered_languages())
    target = values.get("next")
    return remember_language(redirect(target if is_safe_next(target) else url_for("main.index")), code)


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
