"""Publishing a result: frozen, audited, versioned; the public page, the open data, the recount."""
from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from datetime import timedelta

import pytest
import sqlalchemy as sa

from pbvote.audit import AuditEntry
from pbvote.ballots import services as ballot_services
from pbvote.ballots.services import Choice, Voter
from pbvote.cycles.models import BallotType, PhaseKind
from pbvote.errors import Conflict, InvalidInput, PhaseClosed
from pbvote.extensions import db
from pbvote.proposals import services as proposal_services
from pbvote.results import publication as publishing
from pbvote.results import services as results
from pbvote.results.models import Publication
from pbvote.tally import pabulib
from pbvote.timeutil import utcnow


@pytest.fixture
def closed_budget(make_cycle, make_proposal, make_user):
    """A budget of 100,000.00 with four projects, voted on by 5 residents, voting closed."""

    def make(ballot_type=BallotType.APPROVAL, ballots=None, groups=None, **budget_fields):
        cycle = make_cycle("voting", budgets=[{"name": "City", "total_amount": 100_000_00, "ballot_type": ballot_type,
                                                "min_choices": 1, **budget_fields}])
        budget = cycle.budgets[0]
        projects = [make_proposal(cycle, cost=cost, budget=budget) for cost in (60_000_00, 50_000_00, 40_000_00, 30_000_00)]
        a, b, c, d = projects
        if groups:  # groups of mutually exclusive projects, set up before the first ballot freezes them
            staff = make_user("staff")
            for n, members in enumerate(groups(a, b, c, d)):
                group = proposal_services.create_group(staff, budget, f"Same site {n}")
                for proposal in members:
                    proposal_services.add_to_group(staff, group, proposal)
            db.session.commit()
        receipts = []
        with_points = ballot_type is BallotType.CUMULATIVE
        with_rank = ballot_type is BallotType.RANKING
        for chosen in (ballots or (lambda a, b, c, d: ([a, c], [a, c], [a], [b, d], [d])))(a, b, c, d):
            choices = [Choice(p.id, points=(5 if with_points else None), rank=(i + 1 if with_rank else None))
                       for i, p in enumerate(chosen)]
            result = ballot_services.cast_ballot(Voter(user=make_user(verified=True)), budget, choices,
                                                 ballot_services.new_submission_token())
            receipts.append(result)
            db.session.commit()
        cycle.phase(PhaseKind.VOTING).ends_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
        return budget, projects, receipts

    return make


def test_nothing_is_published_while_voting_is_open(make_cycle, request_context):
    cycle = make_cycle("voting")
    with pytest.raises(PhaseClosed):
        publishing.publish_result(cycle.budgets[0])


def test_publish_freezes_rule_engine_ballots_and_file_hash(closed_budget, make_user, request_context):
    budget, (a, b, c, d), _receipts = closed_budget(tally_params={"tie_break": "equalshares"})
    staff = make_user("staff")
    published = publishing.publish_result(budget, staff)
    db.session.commit()
    assert published.version == 1 and published.rule == "greedy" and published.tie_break == "equalshares"
    assert published.ballot_count == 5 and published.engine_version.startswith("pbvote ")
    assert published.ballots_sha256 == hashlib.sha256(published.ballots_file.encode()).hexdigest()
    assert published.funded_amount == 90_000_00 and published.budget_amount == 100_000_00
    assert [line.proposal_id for line in published.projects if line.funded] == [a.id, d.id]
    assert published.projects[0].proposal_id == a.id  # funded first, in the order chosen
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "results.published"))
    assert entry.actor_id == staff.id and entry.data["sha256"] == published.ballots_sha256
    assert publishing.funded_by_proposal(budget) == {a.id: True, b.id: False, c.id: False, d.id: True}


def test_a_published_result_is_never_silently_redone(closed_budget, make_user, request_context):
    budget, _projects, _receipts = closed_budget()
    first = publishing.publish_result(budget, make_user("staff"))
    db.session.commit()
    with pytest.raises(Conflict):
        publishing.publish_result(budget)
    corrected = publishing.publish_result(budget, correction_reason="A paper batch was keyed twice.")
    db.session.commit()
    assert corrected.version == 2 and corrected.correction_reason == "A paper batch was keyed twice."
    assert first.superseded_at is not None and publishing.live_publication(budget) == corrected
    assert [p.version for p in publishing.publications(budget)] == [2, 1]
    assert db.session.scalar(sa.select(AuditEntry.action).where(AuditEntry.action == "results.corrected"))


def test_correction_reason_without_a_publication_is_refused(closed_budget, request_context):
    budget, _projects, _receipts = closed_budget()
    with pytest.raises(InvalidInput):
        publishing.publish_result(budget, correction_reason="why not")


def test_the_database_keeps_one_live_publication_per_budget(closed_budget, request_context):
    budget, _projects, _receipts = closed_budget()
    first = publishing.publish_result(budget)
    db.session.commit()
    db.session.add(Publication(
        budget_id=budget.id, version=2, rule="greedy", parameters={}, tie_break="lexico", engine_version="x",
        ballot_count=0, budget_amount=0, funded_amount=0, satisfaction=[], ballots_sha256="0" * 64,
        ballots_file="", recount_command="", correction_reason="sneaky",
    ))
    with pytest.raises(sa.exc.IntegrityError):
        db.session.flush()
    db.session.rollback()
    assert publishing.live_publication(budget).id == first.id


RULES = [
    ("greedy", {}),
    ("greedy", {"tie_break": "equalshares"}),
    ("mes", {"utility": "cost", "completion": "none"}),
    ("mes", {"utility": "cost", "completion": "add1"}),
    ("mes", {"utility": "cost", "completion": "add1+greedy", "tie_break": "equalshares"}),
    ("knapsack", {}),
    ("phragmen", {}),
]
BALLOTS = [BallotType.APPROVAL, BallotType.CUMULATIVE, BallotType.RANKING, BallotType.CHOOSE_ONE]


@pytest.mark.parametrize("ballot_type", BALLOTS, ids=lambda t: t.value)
@pytest.mark.parametrize(("rule", "params"), RULES,
                         ids=lambda v: v if isinstance(v, str) else "-".join(v.values()) or "default")
def test_export_then_cli_gives_the_published_set(closed_budget, request_context, tmp_path, rule, params, ballot_type):
    fields = {"tally_rule": rule, "tally_params": params}
    ballots = None
    if ballot_type is BallotType.CUMULATIVE:
        fields |= {"points_total": 10, "points_per_project": 5}
    if ballot_type is BallotType.RANKING:
        fields |= {"max_choices": 3}
    if ballot_type is BallotType.CHOOSE_ONE:
        ballots = lambda a, b, c, d: ([a], [a], [b], [d], [c])  # noqa: E731
    budget, _projects, _receipts = closed_budget(ballot_type, ballots, **fields)
    published = publishing.publish_result(budget)
    db.session.commit()
    path = tmp_path / publishing.ballots_filename(budget)
    path.write_text(published.ballots_file, encoding="utf-8")
    command = published.recount_command.split()
    assert command[:2] == ["pbvote", "tally"] and "--check-selected" in command
    command[2] = str(path)
    run = subprocess.run([sys.executable, "-c", "from pbvote.cli import main; main()", *command[1:], "--format", "json"],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    funded = {str(line.proposal_id) for line in published.projects if line.funded}
    assert set(json.loads(run.stdout)["selected"]) == funded
    assert publishing.recount_publication(published) == funded  # re-running later: the same set


@pytest.mark.parametrize("ballot_type", BALLOTS, ids=lambda t: t.value)
@pytest.mark.parametrize("params", [{}, {"tie_break": "equalshares"}], ids=["lexico", "equalshares"])
def test_export_then_cli_gives_the_published_set_with_exclusive_groups(closed_budget, request_context, tmp_path,
                                                                       params, ballot_type):
    """greedy-exclusive with the budget's groups: the file carries them (META pbvote_exclusive_groups),
    and the published recount command reproduces the set, at most one project of each group in it."""
    fields = {"tally_rule": "greedy-exclusive", "tally_params": params}
    ballots = None
    if ballot_type is BallotType.CUMULATIVE:
        fields |= {"points_total": 10, "points_per_project": 5}
    if ballot_type is BallotType.RANKING:
        fields |= {"max_choices": 3}
    if ballot_type is BallotType.CHOOSE_ONE:
        ballots = lambda a, b, c, d: ([a], [a], [b], [d], [c])  # noqa: E731
    budget, (a, _b, c, d), _receipts = closed_budget(ballot_type, ballots, groups=lambda a, b, c, d: [(a, d)], **fields)
    published = publishing.publish_result(budget)
    db.session.commit()
    meta = pabulib.parse(published.ballots_file).meta_dict
    assert meta["pbvote_exclusive_groups"] == f"{a.id},{d.id}" and meta["rule"] == "greedy-exclusive"
    path = tmp_path / publishing.ballots_filename(budget)
    path.write_text(published.ballots_file, encoding="utf-8")
    command = published.recount_command.split()
    command[2] = str(path)
    run = subprocess.run([sys.executable, "-c", "from pbvote.cli import main; main()", *command[1:], "--format", "json"],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    funded = {str(line.proposal_id) for line in published.projects if line.funded}
    assert set(json.loads(run.stdout)["selected"]) == funded
    assert not {str(a.id), str(d.id)} <= funded
    from_file = subprocess.run([sys.executable, "-c", "from pbvote.cli import main; main()", "tally", str(path),
                                "--rule", "from-file", "--format", "json"], capture_output=True, text=True, timeout=120)
    assert from_file.returncode == 0, from_file.stderr
    assert set(json.loads(from_file.stdout)["selected"]) == funded


def test_from_file_is_the_recount_command_where_the_file_names_the_rule(closed_budget, request_context):
    budget, _projects, _receipts = closed_budget()
    published = publishing.publish_result(budget)
    assert published.recount_command == f"pbvote tally {publishing.ballots_filename(budget)} --rule from-file --check-selected"
