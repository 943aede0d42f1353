"""Public pages of the results domain: a budget's published result and its open data.

Shown only once the result is published (and never while voting is open): the funded projects
first, the budget used, each project's votes or score, cost and the reason in plain words, turnout
by channel and district, voter satisfaction; charts are server-side SVG, each with a table.  The
open data (ballots as pabulib ``.pb`` and CSV, the result as JSON, the tracking-hash list) is the
frozen file of the publication, whose SHA-256 the page shows.
"""
from __future__ import annotations

import csv
import io
import json

from flask import Blueprint, abort, render_template, url_for
from flask_babel import gettext as _

from pbvote.auth.session import public
from pbvote.cycles.models import Budget, Cycle
from pbvote.extensions import db
from pbvote.money import from_minor_units
from pbvote.results import publication as publishing
from pbvote.results.explain import explain
from pbvote.results.models import Publication
from pbvote.results.services import voting_closed
from pbvote.tally import RULES, pabulib

bp = Blueprint("results_public", __name__, url_prefix="/cycles/<slug>/results")


def _published(slug: str, budget_id: int) -> tuple[Budget, Publication]:
    """The budget of a public cycle and its live publication; 404 before publication."""
    budget = db.get_or_404(Budget, budget_id)
    cycle: Cycle = budget.cycle
    if cycle.slug != slug or not cycle.is_published or not voting_closed(budget):
        abort(404)
    live = publishing.live_publication(budget)
    if live is None:
        abort(404)
    return budget, live


def _unit(publication: Publication) -> str:
    return _("points") if publication.parameters.get("utility") == "points" else _("votes")


@bp.route("/<id:budget_id>")
@public
def show(slug: str, budget_id: int):
    budget, live = _published(slug, budget_id)
    cycle = budget.cycle
    unit = _unit(live)
    lines = [(line, explain(line, unit, cycle.currency)) for line in live.projects]
    voters = sum(n for _key, n in live.satisfaction)
    histogram = [(int(k), n) for k, n in live.satisfaction]
    return render_template(
        "results/public.html", cycle=cycle, budget=budget, publication=live, lines=lines, unit=unit,
        voters=voters, histogram=histogram, histogram_top=max([n for _key, n in histogram] or [1]),
        turnout=publishing.turnout(cycle), versions=publishing.publications(budget),
        rule_label=_(RULES[live.rule].label) if live.rule in RULES else live.rule,
    )


@bp.route("/<id:budget_id>/ballots.pb")
@public
def ballots_pb(slug: str, budget_id: int):
    """The anonymous ballots and projects, exactly the file the published result was counted from."""
    budget, live = _published(slug, budget_id)
    return live.ballots_file, 200, {
        "Content-Type": "text/plain; charset=utf-8",
        "Content-Disposition": f'attachment; filename="{publishing.ballots_filename(budget)}"',
    }


def _csv_download(budget, header: list[str], rows: list[list[str]], part: str):
    """``rows`` under ``header`` as a CSV attachment named after the budget's ballot file."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    name = publishing.ballots_filename(budget).removesuffix(".pb")
    return out.getvalue(), 200, {
        "Content-Type": "text/csv; charset=utf-8",
        "Content-Disposition": f'attachment; filename="{name}-{part}.csv"',
    }


@bp.route("/<id:budget_id>/ballots.csv")
@public
def ballots_csv(slug: str, budget_id: int):
    """The same ballots as CSV: one row per voter (``voter_id``, ``vote`` and ``points`` if any)."""
    budget, live = _published(slug, budget_id)
    pb = pabulib.parse(live.ballots_file)
    return _csv_download(budget, pb.vote_columns, pb.votes, "ballots")


@bp.route("/<id:budget_id>/projects.csv")
@public
def projects_csv(slug: str, budget_id: int):
    """The projects as CSV, with their votes or score and whether they were funded."""
    budget, live = _published(slug, budget_id)
    pb = pabulib.parse(live.ballots_file)
    return _csv_download(budget, pb.project_columns, pb.projects, "projects")


@bp.route("/<id:budget_id>/result.json")
@public
def result_json(slug: str, budget_id: int):
    """The published result as JSON (amounts in the currency's unit, as text)."""
    budget, live = _published(slug, budget_id)
    body = json.dumps(publication_as_dict(budget, live), ensure_ascii=False, indent=2)
    return body, 200, {"Content-Type": "application/json; charset=utf-8"}


@bp.route("/<id:budget_id>/tracking-hashes.txt")
@public
def tracking_hashes(slug: str, budget_id: int):
    """SHA-256 of every counted ballot's tracking code, one a line, sorted."""
    budget, _live = _published(slug, budget_id)
    return "\n".join(publishing.tracking_hashes(budget)) + "\n", 200, {
        "Content-Type": "text/plain; charset=utf-8",
    }


@bp.app_template_global()
def proposal_result(proposal):
    """The proposal's line in its budget's live publication (funded or not), for its page; None
    before publication.  A template global because proposals, below results, cannot ask for it."""
    budget = proposal.budget
    if budget is None or not voting_closed(budget):
        return None
    live = publishing.live_publication(budget)
    if live is None:
        return None
    return next((line for line in live.projects if line.proposal_id == proposal.id), None)


def publication_as_dict(budget: Budget, live: Publication) -> dict:
    """A publication in the open-data / API shape."""
    currency = budget.cycle.currency

    def amount(value: int) -> str:
        return str(from_minor_units(value, currency))

    return {
        "cycle": budget.cycle.slug,
        "budget": {"id": budget.id, "name": budget.name, "amount": amount(live.budget_amount), "currency": currency},
        "version": live.version,
        "published_at": live.published_at.isoformat() + "Z",
        "rule": live.rule,
        "parameters": live.parameters,
        "tie_break": live.tie_break,
        "engine_version": live.engine_version,
        "ballots": live.ballot_count,
        "ballots_sha256": live.ballots_sha256,
        "recount_command": live.recount_command,
        "note": live.note,
        "correction_reason": live.correction_reason,
        "funded_amount": amount(live.funded_amount),
        "selected": [str(line.proposal_id) for line in live.projects if line.funded],
        "projects": [
            {"id": str(line.proposal_id), "name": line.proposal.title, "cost": amount(line.cost_amount),
             "score": line.score, "funded": line.funded, "reason": line.reason}
            for line in live.projects
        ],
        "satisfaction": {
            "voters_with_funded_project": live.voters_with_funded_project,
            "histogram": {str(k): n for k, n in live.satisfaction},
        },
        "downloads": {
            "ballots_pb": url_for("results_public.ballots_pb", slug=budget.cycle.slug, budget_id=budget.id),
            "ballots_csv": url_for("results_public.ballots_csv", slug=budget.cycle.slug, budget_id=budget.id),
            "tracking_hashes": url_for("results_public.tracking_hashes", slug=budget.cycle.slug, budget_id=budget.id),
        },
    }
