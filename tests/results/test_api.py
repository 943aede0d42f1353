"""The read-only JSON API under /api/v1/: pagination, JSON errors, results once published, OpenAPI."""
from __future__ import annotations

from datetime import timedelta

import pytest

from pbvote.ballots import services as ballot_services
from pbvote.ballots.services import Choice, Voter
from pbvote.cycles.models import PhaseKind
from pbvote.extensions import db
from pbvote.results import publication as publishing
from pbvote.timeutil import utcnow


def test_cycles_are_paginated_and_hide_unpublished(client, make_cycle):
    for _ in range(3):
        make_cycle("submission")
    hidden = make_cycle("submission", published=False)
    first = client.get("/api/v1/cycles?per_page=2").get_json()
    assert first["total"] == 3 and len(first["items"]) == 2 and first["next"]
    second = client.get(first["next"]).get_json()
    assert len(second["items"]) == 1 and second["next"] is None
    slugs = {c["slug"] for c in first["items"] + second["items"]}
    assert hidden.slug not in slugs
    assert client.get(f"/api/v1/cycles/{hidden.slug}").status_code == 404


def test_errors_are_json(client):
    missing = client.get("/api/v1/cycles/nope")
    assert missing.status_code == 404 and missing.get_json()["error"]["status"] == 404
    bad = client.get("/api/v1/cycles?per_page=1000")
    assert bad.status_code == 400 and "per_page" in bad.get_json()["error"]["message"]
    assert client.get("/api/v1/no-such-thing").get_json()["error"]["status"] == 404


def test_proposals_and_budget(client, make_cycle, make_proposal):
    cycle = make_cycle("voting")
    proposal = make_proposal(cycle, cost=12_500_50)
    make_proposal(cycle, status="draft")
    listed = client.get(f"/api/v1/cycles/{cycle.slug}/proposals").get_json()
    assert [p["id"] for p in listed["items"]] == [proposal.id] and listed["items"][0]["cost"] == "12500.50"
    budget = client.get(f"/api/v1/budgets/{cycle.budgets[0].id}").get_json()
    assert budget["amount"] == "100000.00" and budget["result"] is None


def test_result_only_once_published(client, make_cycle, make_proposal, make_user, request_context):
    cycle = make_cycle("voting")
    budget = cycle.budgets[0]
    proposal = make_proposal(cycle, cost=10_000_00)
    ballot_services.cast_ballot(Voter(user=make_user(verified=True)), budget, [Choice(proposal.id)],
                                ballot_services.new_submission_token())
    db.session.commit()
    url = f"/api/v1/budgets/{budget.id}/result"
    assert client.get(url).status_code == 404
    cycle.phase(PhaseKind.VOTING).ends_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert client.get(url).status_code == 404  # closed, not yet published
    publishing.publish_result(budget)
    db.session.commit()
    result = client.get(url).get_json()
    assert result["selected"] == [str(proposal.id)] and result["ballots"] == 1
    assert client.get(f"/api/v1/budgets/{budget.id}").get_json()["result"] == url


def test_openapi_document_is_valid(client):
    validate = pytest.importorskip("openapi_spec_validator").validate
    document = client.get("/api/v1/openapi.json").get_json()
    validate(document)
    assert {"/cycles", "/cycles/{slug}", "/budgets/{budget_id}/result", "/cycles/{slug}/implementation",
            "/projects/{proposal_id}/implementation"} <= set(document["paths"])
    assert {"Implementation", "ImplementationSummary"} <= set(document["components"]["schemas"])


def test_implementation_answers_match_the_openapi_schemas(client, make_cycle, make_proposal, make_user, request_context):
    """The implementation endpoints' answers validate against the schemas the document declares."""
    jsonschema = pytest.importorskip("jsonschema")
    from pbvote.proposals.models import Pledge, PledgeKind
    from pbvote.results.implementation import services as implementation
    from pbvote.results.implementation.models import ImplementationStatus

    cycle = make_cycle("voting")
    budget = cycle.budgets[0]
    proposal = make_proposal(cycle, cost=10_000_00)
    helper = make_user()
    proposal.pledges.append(Pledge(user=helper, kind=PledgeKind.SKILLS, description="design the signs"))
    ballot_services.cast_ballot(Voter(user=make_user(verified=True)), budget, [Choice(proposal.id)],
                                ballot_services.new_submission_token())
    cycle.phase(PhaseKind.VOTING).ends_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    publishing.publish_result(budget)
    staff = make_user("staff")
    implementation.update_implementation(staff, proposal, status=ImplementationStatus.IN_PROGRESS, progress_percent=30)
    implementation.add_milestone(staff, proposal, title="Order the signs")
    implementation.set_pledge_fulfilled(staff, proposal.pledges[0], True)
    db.session.commit()
    document = client.get("/api/v1/openapi.json").get_json()

    def check(path: str, template: str) -> None:
        schema = document["paths"][template]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
        body = client.get(path).get_json()
        jsonschema.validate(body, {**schema, "components": document["components"]})

    check(f"/api/v1/cycles/{cycle.slug}/implementation", "/cycles/{slug}/implementation")
    check(f"/api/v1/projects/{proposal.id}/implementation", "/projects/{proposal_id}/implementation")
