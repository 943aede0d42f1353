"""The read-only JSON API, ``/api/v1/``: cycles, budgets, proposals, published results and the
implementation of funded projects.

Inside the results domain, the top of the domains, because it shows all of them (and the import
contract lets nothing above the domains but the composition root).  Every list is paginated
(``?page=1&per_page=50``, at most 200; a page past the end is empty; the answer carries ``page``, ``per_page``, ``total`` and the
``next`` link); errors are JSON (``{"error": {"status", "code", "message"}}``, from
:mod:`pbvote.errors`, which answers JSON under ``/api/``).  Only what the public pages show:
published cycles, public proposals, results once published.  The OpenAPI 3.1 description is at
``/api/v1/openapi.json`` (a test validates it with ``openapi-spec-validator``).
"""
from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, jsonify, request, url_for

from pbvote.auth.session import public
from pbvote.bounds import page_number
from pbvote.cycles.models import Budget, Cycle
from pbvote.errors import InvalidInput, NotFound
from pbvote.extensions import db
from pbvote.money import from_minor_units
from pbvote.proposals.models import PUBLIC_STATUSES, Proposal
from pbvote.results import publication as publishing
from pbvote.results.implementation import services as implementation
from pbvote.results.public import publication_as_dict
from pbvote.results.services import voting_closed
from pbvote.timeutil import zone_name

bp = Blueprint("api", __name__, url_prefix="/api/v1")
MAX_PER_PAGE = 200


def _amount(value: int | None, currency: str) -> str | None:
    return None if value is None else str(from_minor_units(value, currency))


def _page(statement, endpoint: str, serialize, extra: dict | None = None, many=None, **values):
    """One page of ``statement``'s rows (``?page``, ``?per_page``) with the links to move on.

    ``extra``: more keys of the answer (a summary); ``many``: serializes the page's rows at once
    (instead of ``serialize`` row by row) when that saves queries."""
    page = page_number()  # missing or not a number: 1; beyond what the database can offset: 404
    raw = request.args.get("per_page", "50").strip()
    if not raw.isdigit() or not 1 <= int(raw[:6]) <= MAX_PER_PAGE or len(raw) > 6:
        raise InvalidInput(f"per_page is a whole number between 1 and {MAX_PER_PAGE}")
    per_page = int(raw)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(statement.order_by(None).subquery()))
    rows = db.session.scalars(statement.limit(per_page).offset((page - 1) * per_page)).all()
    more = page * per_page < total
    return jsonify(
        **(extra or {}), items=many(rows) if many else [serialize(row) for row in rows], page=page, per_page=per_page, total=total,
        next=url_for(endpoint, page=page + 1, per_page=per_page, **values) if more else None,
    )


def _public_cycle(slug: str) -> Cycle:
    cycle = db.session.scalar(sa.select(Cycle).where(Cycle.slug == slug, Cycle.is_published.is_(True)))
    if cycle is None:
        raise NotFound("no published cycle with this slug")
    return cycle


def _public_budget(budget_id: int) -> Budget:
    budget = db.session.get(Budget, budget_id)
    if budget is None or not budget.cycle.is_published:
        raise NotFound("no budget with this id")
    return budget


def _budget(budget: Budget) -> dict:
    currency = budget.cycle.currency
    live = publishing.live_publication(budget) if voting_closed(budget) else None
    return {
        "id": budget.id, "name": budget.name, "cycle": budget.cycle.slug,
        "district": budget.district.name if budget.district else None,
        "amount": _amount(budget.total_amount, currency), "currency": currency,
        "ballot_type": budget.ballot_type.value, "min_choices": budget.min_choices, "max_choices": budget.max_choices,
        "tally_rule": budget.tally_rule,
        "result": url_for("api.budget_result", budget_id=budget.id) if live else None,
    }


def _cycle(cycle: Cycle) -> dict:
    current = cycle.current_phase()
    return {
        "slug": cycle.slug, "name": cycle.name, "description": cycle.description, "currency": cycle.currency,
        "timezone": zone_name(cycle),
        "amount": _amount(cycle.total_amount, cycle.currency),
        "current_phase": current.kind.value if current else None,
        "phases": [{"kind": p.kind.value, "starts_at": p.starts_at.isoformat() + "Z", "ends_at": p.ends_at.isoformat() + "Z"}
                   for p in cycle.phases],
        "budgets": [_budget(b) for b in cycle.budgets],
        "url": url_for("api.cycle", slug=cycle.slug),
    }


def _proposal(proposal: Proposal) -> dict:
    currency = proposal.cycle.currency
    return {
        "id": proposal.id, "title": proposal.title, "status": proposal.status.value, "budget": proposal.budget_id,
        "category": proposal.category.name if proposal.category else None,
        "cost": _amount(proposal.ballot_amount, currency), "currency": currency,
        "latitude": proposal.latitude, "longitude": proposal.longitude, "supports": proposal.support_count,
        "url": url_for("proposals.show", proposal_id=proposal.id),
    }


@bp.route("/cycles")
@public
def cycles():
    """Published cycles, the most recent first."""
    statement = sa.select(Cycle).where(Cycle.is_published.is_(True)).order_by(Cycle.created_at.desc(), Cycle.id.desc())
    return _page(statement, "api.cycles", _cycle)


@bp.route("/cycles/<slug>")
@public
def cycle(slug: str):
    return jsonify(_cycle(_public_cycle(slug)))


@bp.route("/cycles/<slug>/proposals")
@public
def cycle_proposals(slug: str):
    """The cycle's public proposals, by id."""
    cycle = _public_cycle(slug)
    statement = (sa.select(Proposal).where(Proposal.cycle_id == cycle.id, Proposal.status.in_(PUBLIC_STATUSES))
                 .order_by(Proposal.id))
    return _page(statement, "api.cycle_proposals", _proposal, slug=slug)


@bp.route("/budgets/<id:budget_id>")
@public
def budget(budget_id: int):
    return jsonify(_budget(_public_budget(budget_id)))


@bp.route("/budgets/<id:budget_id>/result")
@public
def budget_result(budget_id: int):
    """The budget's published result (404 before publication, never while voting is open)."""
    budget = _public_budget(budget_id)
    live = publishing.live_publication(budget) if voting_closed(budget) else None
    if live is None:
        raise NotFound("this budget's result is not published")
    return jsonify(publication_as_dict(budget, live))


def _date(value) -> str | None:
    return value.isoformat() if value else None


def _implementation(project: implementation.FundedProject) -> dict:
    """A funded project's implementation: status, progress, dates, milestones, photos, pledges."""
    proposal, record = project.proposal, project.implementation
    currency = proposal.cycle.currency
    return {
        "project": proposal.id, "title": proposal.title, "budget": proposal.budget_id,
        "funded_amount": _amount(project.line.cost_amount, currency), "currency": currency,
        "status": project.status.value, "progress": project.progress,
        "cancellation_reason": record.cancellation_reason if record else None,
        "started_on": _date(record and record.started_on), "expected_on": _date(record and record.expected_on),
        "finished_on": _date(record and record.finished_on), "note": record.public_note if record else "",
        "milestones": [{"title": m.title, "due_on": _date(m.due_on), "done_on": _date(m.done_on), "done": m.is_done,
                        "note": m.note} for m in project.milestones],
        "photos": [{"url": url_for("implementation_public.photo", photo_id=p.id), "alt": p.alt_text} for p in project.photos],
        "pledges": {"total": len(project.pledges), "fulfilled": project.pledges_fulfilled, "items": [
            {"kind": p.kind.value, "hours": p.hours, "frequency": p.frequency.value if p.frequency else None,
             "description": p.description, "fulfilled": p.id in project.fulfilments,
             "note": project.fulfilments[p.id].note if p.id in project.fulfilments else None}
            for p in project.pledges]},
        "url": url_for("api.project_implementation", proposal_id=proposal.id),
        "page": url_for("proposals.show", proposal_id=proposal.id),
    }


@bp.route("/cycles/<slug>/implementation")
@public
def cycle_implementation(slug: str):
    """The projects funded by the cycle's published results and how they are being delivered,
    with the cycle's summary (404 until a published result funds a project)."""
    cycle = _public_cycle(slug)
    if not implementation.has_funded_projects(cycle):
        raise NotFound("no published result of this cycle funds a project yet")
    summary = implementation.summarize(implementation.funded_projects(cycle))
    currency = cycle.currency
    extra = {"summary": {
        "projects": summary.projects, "by_status": {status.value: n for status, n in summary.by_status.items()},
        "funded_amount": _amount(summary.funded_amount, currency), "delivered_amount": _amount(summary.delivered_amount, currency),
        "cancelled_amount": _amount(summary.cancelled_amount, currency), "currency": currency,
        "milestones": summary.milestones, "milestones_done": summary.milestones_done,
        "pledges": summary.pledges, "pledges_fulfilled": summary.pledges_fulfilled,
    }}
    return _page(implementation.funded_lines_statement(cycle), "api.cycle_implementation", None, extra=extra,
                 many=lambda lines: [_implementation(p) for p in implementation.projects_for_lines(lines)], slug=slug)


@bp.route("/projects/<id:proposal_id>/implementation")
@public
def project_implementation(proposal_id: int):
    """One funded project's implementation (404 unless a published result funds it)."""
    proposal = db.session.get(Proposal, proposal_id)
    line = implementation.funded_line(proposal) if proposal is not None and proposal.cycle.is_published else None
    if line is None:
        raise NotFound("no funded project with this id")
    return jsonify(_implementation(implementation.projects_for_lines([line])[0]))


@bp.route("/openapi.json")
@public
def openapi():
    """The OpenAPI 3.1 description of this API."""
    return jsonify(openapi_document())


def openapi_document() -> dict:
    paginated = {"type": "object", "required": ["items", "page", "per_page", "total", "next"], "properties": {
        "page": {"type": "integer"}, "per_page": {"type": "integer"}, "total": {"type": "integer"},
        "next": {"type": ["string", "null"]}, "items": {"type": "array"}}}
    error = {"description": "Error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    page_params = [
        {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1, "default": 1}},
        {"name": "per_page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE, "default": 50}},
    ]
    slug = {"name": "slug", "in": "path", "required": True, "schema": {"type": "string"}}
    budget_id = {"name": "budget_id", "in": "path", "required": True, "schema": {"type": "integer"}}

    def ok(schema: dict, summary: str, params=()) -> dict:
        return {"get": {"summary": summary, "parameters": list(params), "responses": {
            "200": {"description": "OK", "content": {"application/json": {"schema": schema}}},
            "400": error, "404": error}}}

    ref = lambda name: {"$ref": f"#/components/schemas/{name}"}  # noqa: E731
    return {
        "openapi": "3.1.0",
        "info": {"title": "pbvote API", "version": "1", "description": "Read-only: published cycles, "
                 "their budgets and public proposals, published results and the implementation of the funded "
                 "projects. Amounts are decimal strings in "
                 "the cycle's currency."},
        "servers": [{"url": "/api/v1"}],
        "paths": {
            "/cycles": ok({"allOf": [paginated, {"properties": {"items": {"items": ref("Cycle")}}}]},
                          "Published cycles", page_params),
            "/cycles/{slug}": ok(ref("Cycle"), "One cycle", [slug]),
            "/cycles/{slug}/proposals": ok({"allOf": [paginated, {"properties": {"items": {"items": ref("Proposal")}}}]},
                                           "A cycle's public proposals", [slug, *page_params]),
            "/budgets/{budget_id}": ok(ref("Budget"), "One budget", [budget_id]),
            "/budgets/{budget_id}/result": ok(ref("Result"), "A budget's published result", [budget_id]),
            "/cycles/{slug}/implementation": ok(
                {"allOf": [paginated, {"required": ["summary"], "properties": {
                    "summary": ref("ImplementationSummary"), "items": {"items": ref("Implementation")}}}]},
                "How the cycle's funded projects are being delivered, with the cycle's summary", [slug, *page_params]),
            "/projects/{proposal_id}/implementation": ok(ref("Implementation"), "One funded project's implementation",
                                                         [{"name": "proposal_id", "in": "path", "required": True,
                                                           "schema": {"type": "integer"}}]),
            "/openapi.json": {"get": {"summary": "This document", "responses": {"200": {"description": "OK"}}}},
        },
        "components": {"schemas": {
            "Error": {"type": "object", "properties": {"error": {"type": "object", "properties": {
                "status": {"type": "integer"}, "code": {"type": "string"}, "message": {"type": "string"}}}}},
            "Cycle": {"type": "object", "properties": {
                "slug": {"type": "string"}, "name": {"type": "string"}, "description": {"type": "string"},
                "currency": {"type": "string"}, "amount": {"type": "string"},
                "timezone": {"type": "string", "description": "IANA zone the cycle's times are shown in; "
                             "the times themselves are UTC (ending in Z)"},
                "current_phase": {"type": ["string", "null"]}, "phases": {"type": "array"},
                "budgets": {"type": "array", "items": ref("Budget")}, "url": {"type": "string"}}},
            "Budget": {"type": "object", "properties": {
                "id": {"type": "integer"}, "name": {"type": "string"}, "cycle": {"type": "string"},
                "district": {"type": ["string", "null"]}, "amount": {"type": "string"}, "currency": {"type": "string"},
                "ballot_type": {"type": "string"}, "tally_rule": {"type": "string"},
                "result": {"type": ["string", "null"]}}},
            "Proposal": {"type": "object", "properties": {
                "id": {"type": "integer"}, "title": {"type": "string"}, "status": {"type": "string"},
                "budget": {"type": "integer"}, "category": {"type": ["string", "null"]}, "cost": {"type": "string"},
                "currency": {"type": "string"}, "latitude": {"type": ["number", "null"]},
                "longitude": {"type": ["number", "null"]}, "supports": {"type": "integer"}, "url": {"type": "string"}}},
            "Result": {"type": "object", "properties": {
                "cycle": {"type": "string"}, "version": {"type": "integer"}, "rule": {"type": "string"},
                "parameters": {"type": "object"}, "tie_break": {"type": "string"}, "engine_version": {"type": "string"},
                "ballots": {"type": "integer"}, "ballots_sha256": {"type": "string"}, "recount_command": {"type": "string"},
                "selected": {"type": "array", "items": {"type": "string"}}, "projects": {"type": "array"},
                "funded_amount": {"type": "string"}, "satisfaction": {"type": "object"}}},
            "Implementation": {"type": "object", "required": ["project", "status", "progress", "milestones", "pledges"],
                               "properties": {
                "project": {"type": "integer"}, "title": {"type": "string"}, "budget": {"type": "integer"},
                "funded_amount": {"type": "string"}, "currency": {"type": "string"},
                "status": {"type": "string", "enum": ["planned", "in_progress", "done", "cancelled"]},
                "progress": {"type": "integer", "minimum": 0, "maximum": 100},
                "cancellation_reason": {"type": ["string", "null"]},
                "started_on": {"type": ["string", "null"], "format": "date"},
                "expected_on": {"type": ["string", "null"], "format": "date"},
                "finished_on": {"type": ["string", "null"], "format": "date"}, "note": {"type": "string"},
                "milestones": {"type": "array", "items": {"type": "object", "properties": {
                    "title": {"type": "string"}, "due_on": {"type": ["string", "null"], "format": "date"},
                    "done_on": {"type": ["string", "null"], "format": "date"}, "done": {"type": "boolean"},
                    "note": {"type": "string"}}}},
                "photos": {"type": "array", "items": {"type": "object", "properties": {
                    "url": {"type": "string"}, "alt": {"type": "string"}}}},
                "pledges": {"type": "object", "properties": {
                    "total": {"type": "integer"}, "fulfilled": {"type": "integer"},
                    "items": {"type": "array", "items": {"type": "object", "properties": {
                        "kind": {"type": "string"}, "hours": {"type": ["integer", "null"]},
                        "frequency": {"type": ["string", "null"]}, "description": {"type": "string"},
                        "fulfilled": {"type": "boolean"}, "note": {"type": ["string", "null"]}}}}}},
                "url": {"type": "string"}, "page": {"type": "string"}}},
            "ImplementationSummary": {"type": "object", "properties": {
                "projects": {"type": "integer"},
                "by_status": {"type": "object", "additionalProperties": {"type": "integer"}},
                "funded_amount": {"type": "string"}, "delivered_amount": {"type": "string"},
                "cancelled_amount": {"type": "string"}, "currency": {"type": "string"},
                "milestones": {"type": "integer"}, "milestones_done": {"type": "integer"},
                "pledges": {"type": "integer"}, "pledges_fulfilled": {"type": "integer"}}},
        }},
    }
