"""Counting a budget: countable ballots → the tally engine → preview and open-data export."""
from __future__ import annotations

import subprocess
import sys
from datetime import timedelta

import pytest

from pbvote.ballots import services as ballot_services
from pbvote.ballots.services import Choice, Voter
from pbvote.results import services as results
from pbvote.cycles.models import BallotType, PhaseKind
from pbvote.errors import PhaseClosed
from pbvote.extensions import db
from pbvote.proposals.models import ProposalStatus
from pbvote.tally import pabulib
from pbvote.timeutil import utcnow


@pytest.fixture(autouse=True)
def request_context(app):
    with app.test_request_context("/"):
        yield


@pytest.fixture
def counted(make_cycle, make_proposal, make_user):
    """A budget of 100,000.00 with four projects and 5 voters; voting then closed."""

    def make(ballot_type=BallotType.APPROVAL, **budget_fields):
        cycle = make_cycle("voting", budgets=[{"name": "City", "total_amount": 100_000_00, "ballot_type": ballot_type,
                                                "min_choices": 1, **budget_fields}])
        budget = cycle.budgets[0]
        a, b, c, d = (make_proposal(cycle, cost=cost, budget=budget) for cost in (60_000_00, 50_000_00, 40_000_00, 30_000_00))
        make_proposal(cycle, cost=1_00, budget=budget, status=ProposalStatus.UNFEASIBLE, review_reason="Not ours to build.")
        return cycle, budget, (a, b, c, d)

    return make


def vote(budget, user, choices):
    ballot_services.cast_ballot(Voter(user=user), budget, choices, ballot_services.new_submission_token())
    db.session.commit()


def close_voting(cycle):
    phase = cycle.phase(PhaseKind.VOTING)
    phase.ends_at = utcnow() - timedelta(seconds=1)
    db.session.commit()


def test_election_holds_countable_ballots_and_feasible_projects_only(counted, make_user):
    cycle, budget, (a, b, c, d) = counted()
    voters = [make_user(verified=True) for _ in range(3)]
    vote(budget, voters[0], [Choice(a.id), Choice(c.id)])
    vote(budget, voters[1], [Choice(c.id), Choice(a.id)])
    vote(budget, voters[2], [Choice(b.id)])
    vote(budget, voters[2], [Choice(d.id)])  # changes their vote: the first ballot is superseded
    election = results.election_for_budget(budget)
    assert {p.id for p in election.projects} == {str(p.id) for p in (a, b, c, d)}
    assert election.budget == 100_000_00 and election.money_scale == 100
    assert sorted((ballot.projects, ballot.weight) for ballot in election.ballots) == sorted(
        [(tuple(sorted((str(a.id), str(c.id)))), 2), ((str(d.id),), 1)]
    )


def test_preview_waits_until_voting_has_closed(counted):
    _cycle, budget, _projects = counted()
    with pytest.raises(PhaseClosed):
        results.preview_budget(budget)
    with pytest.raises(PhaseClosed):
        results.export_pabulib(budget)


def test_preview_runs_the_budgets_rule_and_alternatives(counted, make_user):
    cycle, budget, (a, b, c, d) = counted(tally_params={"tie_break": "equalshares"})
    for choices in ([a, c], [a, c], [a], [b, d], [d]):
        vote(budget, make_user(verified=True), [Choice(p.id) for p in choices])
    close_voting(cycle)
    previews = results.preview_budget(budget)
    assert previews[0].is_budget_rule and previews[0].rule == "greedy"
    greedy = previews[0].outcome
    # a (3 votes, 60k); c and d tie at 2 votes and the cheaper d goes first (equalshares tie-break);
    # then c (40k) no longer fits, nor b (1 vote, 50k).
    assert list(greedy.selected) == [str(a.id), str(d.id)]
    assert previews[0].total_amount == 90_000_00  # amounts back in cents, counted in whole euros
    assert {p.rule for p in previews} >= {"greedy", "mes", "knapsack", "phragmen"}
    assert all(p.outcome is not None and p.total_amount <= 100_000_00 for p in previews)
    reasons = {r.id: r.reason for r in greedy.projects}
    assert reasons[str(c.id)]


def test_export_recounts_to_the_same_result_with_one_command(counted, make_user, tmp_path):
    cycle, budget, (a, b, c, d) = counted()
    for choices in ([a, c], [a, c], [a], [b, d], [d]):
        vote(budget, make_user(verified=True), [Choice(p.id) for p in choices])
    close_voting(cycle)
    text = results.export_pabulib(budget)
    parsed = pabulib.parse(text)
    assert "voter_id" in text and "@example.org" not in text  # anonymous
    path = tmp_path / "budget.pb"
    path.write_text(text, encoding="utf-8")
    run = subprocess.run([sys.executable, "-c", "from pbvote.cli import main; main()", "tally", str(path), "--rule", "from-file", "--format", "json"],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    import json

    assert json.loads(run.stdout)["selected"] == list(results.run_budget_rule(budget).selected)
    assert parsed is not None


def test_recount_command_carries_every_parameter(counted, make_user, tmp_path):
    cycle, budget, (a, b, c, d) = counted(tally_rule="mes", tally_params={"utility": "cost", "completion": "add1+greedy", "tie_break": "equalshares"})
    for choices in ([a, c], [b], [a, d], [d]):
        vote(budget, make_user(verified=True), [Choice(p.id) for p in choices])
    close_voting(cycle)
    path = tmp_path / "budget.pb"
    path.write_text(results.export_pabulib(budget), encoding="utf-8")
    command = results.recount_command(budget, str(path))
    assert command.endswith("--rule mes --utility cost --completion add1+greedy --tie-break equalshares")
    args = command.split()[2:]
    run = subprocess.run([sys.executable, "-c", "from pbvote.cli import main; main()", "tally", *args, "--format", "json"],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    import json

    assert json.loads(run.stdout)["selected"] == list(results.run_budget_rule(budget).selected)


def test_cumulative_and_ranking_ballots_reach_the_engine(counted, make_user):
    cycle, budget, (a, b, c, d) = counted(BallotType.CUMULATIVE, points_total=10, points_per_project=10)
    vote(budget, make_user(verified=True), [Choice(a.id, points=7), Choice(b.id, points=3)])
    election = results.election_for_budget(budget)
    assert election.vote_type == "cumulative"
    (ballot,) = election.ballots
    assert dict(zip(ballot.projects, ballot.points)) == {str(a.id): 7, str(b.id): 3}


def test_preview_page_is_for_staff(client, make_user, login, counted):
    cycle, budget, _projects = counted()
    login(make_user())
    assert client.get(f"/staff/budgets/{budget.id}/results").status_code == 403
    assert client.get(f"/staff/budgets/{budget.id}/ballots.pb").status_code == 403


def test_preview_page_shows_rules_side_by_side(client, make_user, login, counted):
    cycle, budget, (a, b, c, d) = counted()
    vote(budget, make_user(verified=True), [Choice(a.id)])
    staff = make_user("staff")
    login(staff)
    page = client.get(f"/staff/budgets/{budget.id}/results")
    assert page.status_code == 200 and "once voting has closed" in page.get_data(as_text=True)
    assert client.get(f"/staff/budgets/{budget.id}/ballots.pb").status_code == 409
    close_voting(cycle)
    page = client.get(f"/staff/budgets/{budget.id}/results").get_data(as_text=True)
    assert "Method of Equal Shares" in page and "funded" in page and a.title in page
    download = client.get(f"/staff/budgets/{budget.id}/ballots.pb")
    assert download.status_code == 200 and "attachment" in download.headers["Content-Disposition"]
    assert download.get_data(as_text=True).startswith("META")


@pytest.mark.parametrize("ballot_type", [BallotType.APPROVAL, BallotType.CUMULATIVE, BallotType.RANKING])
def test_plain_rows_give_the_same_election_as_orm_ballots(counted, make_user, ballot_type):
    """The fast path (countable_ballot_contents: one SELECT, identical ballots counted by the database)
    against the plain one (countable_ballots: ORM ballots with their choices), superseded and voided
    ballots included."""
    from collections import Counter

    from pbvote.ballots.kinds import kind_of

    fields = {"points_total": 10, "points_per_project": 10} if ballot_type is BallotType.CUMULATIVE else \
        {"max_choices": 3} if ballot_type is BallotType.RANKING else {}
    cycle, budget, (a, b, c, d) = counted(ballot_type, **fields)
    points = ballot_type is BallotType.CUMULATIVE
    ranked = ballot_type is BallotType.RANKING
    patterns = [[a, c], [c, a], [a], [b, d, c], [d], [a, c], [d, b]]
    for i, chosen in enumerate(patterns):
        user = make_user(verified=True)
        vote(budget, user, [Choice(p.id, points=(i % 3 + 1) if points else None, rank=(k + 1) if ranked else None)
                            for k, p in enumerate(chosen)])
        if i == 2:  # changes their vote: the first ballot is superseded
            vote(budget, user, [Choice(b.id, points=4 if points else None, rank=1 if ranked else None)])
    staff = make_user("staff")
    victim = next(ballot_services.countable_ballots(budget))
    ballot_services.void_ballot(staff, victim, "Cast with a stolen code")
    db.session.commit()
    kind = kind_of(budget)
    plain = Counter()
    for ballot in ballot_services.countable_ballots(budget):
        engine = kind.engine_ballot(ballot.choices)
        plain[(engine.projects, engine.points)] += 1
    fast = Counter()
    for ballot in results.election_for_budget(budget).ballots:
        fast[(ballot.projects, ballot.points)] += ballot.weight
    assert fast == plain and sum(plain.values()) == len(patterns) - 1
