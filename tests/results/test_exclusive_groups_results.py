"""Counting a budget with groups of mutually exclusive projects: the election, the preview, the
published explanation in plain words."""
from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
import sqlalchemy as sa

from conftest import csrf_token

from pbvote import tally
from pbvote.ballots import services as ballot_services
from pbvote.ballots.services import Choice, Voter
from pbvote.cycles.models import PhaseKind
from pbvote.extensions import db
from pbvote.proposals import services as proposal_services
from pbvote.results import publication as publishing
from pbvote.results import services as results
from pbvote.results.explain import explain
from pbvote.tally import pabulib
from pbvote.timeutil import utcnow


@pytest.fixture
def grouped(make_cycle, make_proposal, make_user, request_context):
    """Greedy-exclusive (equal-shares tie-break) over four projects; "Elm Park bench" and "Elm Park
    garden" are on the same site.  Votes: bench 3, lights 2, garden 2, pond 1.  Plain greedy would fund
    the bench and the cheaper garden; with the group the garden is skipped and the lights are funded."""
    cycle = make_cycle("voting", budgets=[{"name": "City", "total_amount": 100_000_00, "min_choices": 1,
                                            "tally_rule": "greedy-exclusive", "tally_params": {"tie_break": "equalshares"}}])
    budget = cycle.budgets[0]
    bench = make_proposal(cycle, budget=budget, cost=60_000_00, title="Elm Park bench")
    pond = make_proposal(cycle, budget=budget, cost=50_000_00, title="Duck pond")
    lights = make_proposal(cycle, budget=budget, cost=40_000_00, title="Street lights")
    garden = make_proposal(cycle, budget=budget, cost=30_000_00, title="Elm Park garden")
    staff = make_user("staff")
    group = proposal_services.create_group(staff, budget, "Same site: Elm Park north lawn")
    proposal_services.add_to_group(staff, group, bench)
    proposal_services.add_to_group(staff, group, garden)
    db.session.commit()
    for chosen in ([bench, lights], [bench, lights], [bench], [pond, garden], [garden]):
        ballot_services.cast_ballot(Voter(user=make_user(verified=True)), budget, [Choice(p.id) for p in chosen],
                                    ballot_services.new_submission_token())
        db.session.commit()
    cycle.phase(PhaseKind.VOTING).ends_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    return cycle, budget, (bench, pond, lights, garden)


def test_the_election_carries_the_budgets_groups(grouped):
    _cycle, budget, (bench, _pond, _lights, garden) = grouped
    election = results.election_for_budget(budget)
    assert election.exclusive_groups == ((str(bench.id), str(garden.id)),)
    assert results.counting_election(election)[0].exclusive_groups == election.exclusive_groups


def test_the_budgets_rule_honours_the_group_and_plain_greedy_would_not(grouped):
    _cycle, budget, (bench, _pond, lights, garden) = grouped
    outcome = results.run_budget_rule(budget)
    assert list(outcome.selected) == [str(bench.id), str(lights.id)]
    election = replace(results.counting_election(results.election_for_budget(budget))[0], exclusive_groups=())
    assert list(tally.run_rule(election, "greedy", tie_break="equalshares").selected) == [str(bench.id), str(garden.id)]
    excluded = next(p for p in outcome.projects if p.id == str(garden.id))
    assert excluded.details["excluded_by"] == str(bench.id)


def test_the_preview_shows_the_budgets_rule_and_the_others_as_they_would_count_without_the_groups(grouped):
    _cycle, budget, (bench, _pond, lights, garden) = grouped
    previews = results.preview_budget(budget)
    own = previews[0]
    assert own.is_budget_rule and own.rule == "greedy-exclusive" and list(own.outcome.selected) == [str(bench.id), str(lights.id)]
    for other in previews[1:]:
        assert other.error is None and other.outcome is not None
        assert "ignoring the groups" in other.label
    greedy = next(p for p in previews[1:] if p.rule == "greedy")
    assert list(greedy.outcome.selected) == [str(bench.id), str(garden.id)]


def test_the_export_names_the_rule_and_carries_the_groups(grouped):
    _cycle, budget, (bench, _pond, _lights, garden) = grouped
    pb = pabulib.parse(results.export_pabulib(budget))
    assert pb.meta_dict["rule"] == "greedy-exclusive" and pb.meta_dict["pbvote_rule"] == "greedy-exclusive"
    assert pb.to_election().exclusive_groups == ((str(bench.id), str(garden.id)),)


def test_the_published_explanation_names_the_funded_project_and_the_groups_reason(grouped, client):
    cycle, budget, (bench, _pond, _lights, garden) = grouped
    published = publishing.publish_result(budget)
    db.session.commit()
    line = next(line for line in published.projects if line.proposal_id == garden.id)
    assert not line.funded
    text = explain(line, "votes", cycle.currency)
    assert text == ("Not funded: “Elm Park bench” was funded and cannot be built together with it "
                    "(Same site: Elm Park north lawn).")
    page = client.get(f"/cycles/{cycle.slug}/results/{budget.id}").get_data(as_text=True)
    assert "cannot be built together with it (Same site: Elm Park north lawn)" in page


def test_importing_a_file_with_groups_keeps_them_and_reproduces_its_funded_projects(app, request_context, tmp_path):
    from pbvote.proposals.models import ExclusiveGroup
    from pbvote.results.importer import import_pabulib

    election = tally.Election(
        budget=100,
        projects=(tally.Project("1", 50, name="Bench"), tally.Project("2", 40, name="Garden"),
                  tally.Project("3", 30, name="Lights"), tally.Project("4", 60, name="Pond")),
        ballots=(tally.Ballot(("1", "2"), weight=4), tally.Ballot(("2", "3"), weight=2), tally.Ballot(("4",))),
        exclusive_groups=(("1", "2"),),
        meta={"description": "Grouped", "currency": "EUR", "unit": "Town", "instance": "2026"},
    )
    outcome = tally.run_rule(election, "greedy-exclusive")
    assert outcome.selected == ("2", "3")  # plain greedy would fund 2 and 1
    path = tmp_path / "grouped.pb"
    path.write_text(pabulib.dumps(pabulib.from_election(election, outcome)), encoding="utf-8")
    imported = import_pabulib(path)
    db.session.commit()
    groups = list(db.session.scalars(sa.select(ExclusiveGroup).where(ExclusiveGroup.budget_id == imported.budget.id)))
    assert len(groups) == 1 and sorted(m.proposal.title for m in groups[0].members) == ["Bench", "Garden"]
    assert imported.publication.rule == "greedy-exclusive" and imported.publication.note is None
    assert {line.proposal.title for line in imported.publication.projects if line.funded} == {"Garden", "Lights"}


def test_the_staff_preview_page_shows_the_groups_rule_and_the_others_without_groups(grouped, client, login, make_user):
    _cycle, budget, (bench, _pond, lights, _garden) = grouped
    login(make_user("staff"))
    page = client.get(f"/staff/budgets/{budget.id}/results")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Street lights" in text and "ignoring the groups" in text and "does not honour" not in text


def test_the_budget_form_refuses_a_rule_that_would_drop_the_groups(request_context, make_cycle, make_proposal, make_user,
                                                                   client, login):
    cycle = make_cycle("review", budgets=[{"name": "City", "total_amount": 100_000_00, "tally_rule": "greedy-exclusive",
                                            "tally_params": {}}])
    budget = cycle.budgets[0]
    staff = make_user("staff")
    proposal_services.create_group(staff, budget, "Same site")
    db.session.commit()
    login(staff)
    token = csrf_token(client, f"/staff/budgets/{budget.id}")
    response = client.post(f"/staff/budgets/{budget.id}", data={
        "csrf_token": token, "name": "City", "district": "", "total": "100000", "position": "0",
        "ballot_type": "approval", "min_choices": "1", "tally_rule": "mes", "utility": "cost",
        "completion": "none", "tie_break": "lexico",
    })
    assert response.status_code == 400 and "delete the groups first" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(type(budget), budget.id).tally_rule == "greedy-exclusive"
