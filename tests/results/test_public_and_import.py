"""The public results page, the open data downloads, and importing a real election (pabulib)."""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from conftest import post_form
from pbvote.ballots import services as ballot_services
from pbvote.cli import cli
from pbvote.ballots.services import Choice, Voter
from pbvote.cycles.models import Cycle, PhaseKind
from pbvote.extensions import db
from pbvote.results import publication as publishing
from pbvote.results.importer import import_pabulib
from pbvote.results.models import Publication
from pbvote.tally import pabulib
from pbvote.timeutil import utcnow

PABULIB = Path(os.environ.get("PBVOTE_PABULIB_DIR", Path(__file__).resolve().parents[2] / ".." / "shared" / "pabulib"))
if not PABULIB.is_dir():
    PABULIB = Path("/work/shared/pabulib")


def pabulib_file(name: str) -> Path:
    path = PABULIB / name
    if not path.is_file():
        pytest.skip(f"{name} not found in {PABULIB} (the shared pabulib files)")
    return path


@pytest.fixture
def voted(make_cycle, make_proposal, make_user):
    """A budget with four projects and five ballots (receipts kept); voting still open."""
    cycle = make_cycle("voting", budgets=[{"name": "City", "total_amount": 100_000_00, "min_choices": 1}])
    budget = cycle.budgets[0]
    a, b, c, d = (make_proposal(cycle, cost=cost, budget=budget) for cost in (60_000_00, 50_000_00, 40_000_00, 30_000_00))
    receipts = []
    for chosen in ([a, c], [a, c], [a], [b, d], [d]):
        receipts.append(ballot_services.cast_ballot(Voter(user=make_user(verified=True)), budget,
                                                    [Choice(p.id) for p in chosen], ballot_services.new_submission_token()))
        db.session.commit()
    return cycle, budget, (a, b, c, d), receipts


def close(cycle):
    cycle.phase(PhaseKind.VOTING).ends_at = utcnow() - timedelta(seconds=1)
    db.session.commit()


def test_staff_publish_then_residents_see_results_and_open_data(client, login, make_user, voted, request_context):
    cycle, budget, (a, b, c, d), receipts = voted
    base = f"/cycles/{cycle.slug}/results/{budget.id}"
    assert client.get(base).status_code == 404  # nothing while voting is open
    staff = make_user("staff")
    login(staff)
    refused = post_form(client, f"/staff/budgets/{budget.id}/publish", {}, token_page=f"/staff/budgets/{budget.id}/results")
    assert refused.status_code == 400 and db.session.scalar(sa.select(sa.func.count(Publication.id))) == 0
    close(cycle)
    response = post_form(client, f"/staff/budgets/{budget.id}/publish", {}, token_page=f"/staff/budgets/{budget.id}/results")
    assert response.status_code == 303 and response.headers["Location"].endswith(base)
    again = post_form(client, f"/staff/budgets/{budget.id}/publish", {}, token_page=f"/staff/budgets/{budget.id}/results")
    assert again.status_code == 400 and "needs a reason" in again.get_data(as_text=True)
    client = client.application.test_client()  # a resident, not signed in

    page = client.get(base).get_data(as_text=True)
    assert a.title in page and "Funded" in page and "<svg" in page and "Voter satisfaction" in page
    assert page.index(a.title) < page.index(b.title)  # funded first
    assert "Not funded: needed €50,000; €0 was left when its turn came, after the 2 projects above." in page
    assert f'href="{base}"' in client.get(f"/cycles/{cycle.slug}").get_data(as_text=True)
    assert "Funded." in client.get(f"/proposals/{a.id}").get_data(as_text=True)  # its status follows
    assert "Not funded." in client.get(f"/proposals/{b.id}").get_data(as_text=True)

    pb = client.get(f"{base}/ballots.pb")
    live = publishing.live_publication(budget)
    assert pb.status_code == 200 and hashlib.sha256(pb.data).hexdigest() == live.ballots_sha256
    # lexico tie-break: c and d tie at 2 votes, the smaller id (c) first; a + c spend it all
    assert set(pabulib.parse(pb.get_data(as_text=True)).selected()) == {str(a.id), str(c.id)}
    result = json.loads(client.get(f"{base}/result.json").data)
    assert set(result["selected"]) == {str(a.id), str(c.id)} and result["ballots_sha256"] == live.ballots_sha256
    assert result["budget"]["amount"] == "100000.00"
    hashes = client.get(f"{base}/tracking-hashes.txt").get_data(as_text=True).split()
    code = receipts[0].tracking_code
    assert ballot_services.tracking_hash(code) in hashes and len(hashes) == 5
    ballots_csv = client.get(f"{base}/ballots.csv").get_data(as_text=True).splitlines()
    assert ballots_csv[0].startswith("voter_id") and len(ballots_csv) == 6
    assert "selected" in client.get(f"{base}/projects.csv").get_data(as_text=True).splitlines()[0]


def test_publish_is_staff_only(client, login, make_user, voted):
    cycle, budget, _projects, _receipts = voted
    close(cycle)
    login(make_user())
    response = post_form(client, f"/staff/budgets/{budget.id}/publish", {}, token_page=f"/cycles/{cycle.slug}")
    assert response.status_code == 403


def test_import_assen_reproduces_the_citys_funded_projects(app, request_context):
    path = pabulib_file("Netherlands_Assen_2024.pb")
    imported = import_pabulib(path)
    db.session.commit()
    file = pabulib.read(path)
    titles = {row[0]: row[3] for row in file.projects}
    funded = {line.proposal.title for line in imported.publication.projects if line.funded}
    assert funded == {titles[pid] for pid in file.selected()}
    assert imported.ballots == int(file.meta_dict["num_votes"]) and imported.publication.rule == "mes"
    cycle = imported.cycle
    assert cycle.voting_has_closed() and imported.budget.total_amount == 100_000_00
    assert imported.publication.note is None


def test_import_without_a_rule_counts_greedy_and_says_so(app, request_context, tmp_path):
    source = pabulib_file("Netherlands_Assen_2024.pb").read_text(encoding="utf-8")
    path = tmp_path / "norule.pb"
    path.write_text(source.replace("rule;equalshares/add1\n", ""), encoding="utf-8")
    imported = import_pabulib(path)
    assert imported.publication.rule == "greedy" and "names no rule" in imported.publication.note


def test_import_pabulib_command_prints_the_results_path_last(app, runner, tmp_path):
    path = pabulib_file("Netherlands_Assen_2024.pb")
    result = runner.invoke(cli, ["import-pabulib", str(path)])
    assert result.exit_code == 0, result.output
    last = result.output.strip().splitlines()[-1]
    with app.app_context():
        cycle = db.session.scalar(sa.select(Cycle).order_by(Cycle.id.desc()))
        assert last == f"/cycles/{cycle.slug}/results/{cycle.budgets[0].id}"
    assert app.test_client().get(last).status_code == 200
    assert runner.invoke(cli, ["import-pabulib", str(tmp_path / "missing.pb")]).exit_code == 2
    unreadable = tmp_path / "broken.pb"
    unreadable.write_text("this is not a pabulib file\n", encoding="utf-8")
    assert runner.invoke(cli, ["import-pabulib", str(unreadable)]).exit_code == 2


def test_imported_election_recounts_with_its_command(app, request_context, tmp_path):
    imported = import_pabulib(pabulib_file("Poland_Krakow_2021_Mistrzejowice.pb"))
    db.session.commit()
    live = imported.publication
    target = tmp_path / "k.pb"
    target.write_text(live.ballots_file, encoding="utf-8")
    args = live.recount_command.split()[2:]
    args[0] = str(target)
    run = subprocess.run([sys.executable, "-c", "from pbvote.cli import main; main()", "tally", *args],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr


SCORING = """META
key;value
description;Synthetic scoring election
country;Poland
unit;Testowo
instance;2024
num_projects;3
num_votes;4
budget;100
vote_type;scoring
rule;greedy
min_points;0
max_points;3
PROJECTS
project_id;cost;votes;name;score
1;60;3;Park;5
2;50;2;Benches;4
3;40;2;Trees;3
VOTES
voter_id;vote;points
1;1,2;3,2
2;1,3,1;2,3,1
3;2;2
4;1;0
"""


def test_a_scoring_file_imports_as_points_ballots_and_recounts(app, request_context, tmp_path):
    """``vote_type;scoring`` (each project scored on its own): points ballots without a total,
    scores summed; a project listed twice counts once with its first points; the note says so;
    the exported file recounts to the same set with the documented command."""
    path = tmp_path / "scoring.pb"
    path.write_text(SCORING, encoding="utf-8")
    imported = import_pabulib(path)
    db.session.commit()
    live = imported.publication
    budget = imported.budget
    assert budget.points_total is None and budget.points_per_project == 3
    assert "score each project on its own" in live.note
    funded = {line.proposal.title for line in live.projects if line.funded}
    assert funded == {"Park", "Trees"}  # Park 5 (60), Benches 4 does not fit in 40, Trees 3 (40)
    scores = {line.proposal.title: line.score for line in live.projects}
    assert scores == {"Park": 5, "Benches": 4, "Trees": 3}
    target = tmp_path / "s.pb"
    target.write_text(live.ballots_file, encoding="utf-8")
    args = live.recount_command.split()[2:]
    args[0] = str(target)
    run = subprocess.run([sys.executable, "-c", "from pbvote.cli import main; main()", "tally", *args],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr


@pytest.mark.parametrize("name", ["Poland_Czestochowa_2020_Grabowka.pb", "Poland_Gdynia_2020_Babie_Doly__small.pb",
                                  "Poland_Poznan_2023_3_-_Piatkowo_Polnoc_Piatkowo.pb",
                                  "Poland_Warszawa_2026_Brodno.pb"])
def test_every_quirky_real_file_imports_and_funds_what_its_rule_funded(app, request_context, name):
    """The corpus's oddities (a project listed twice in a vote, a half-quoted name, greedy-custom's
    reserve, a project funded outside the rule): imported, published, shown; the rule's set is
    the file's 1s (the 2s and 3s were funded outside the rule)."""
    path = pabulib_file(f"quirks/{name}")
    file = pabulib.read(path)
    imported = import_pabulib(path)
    db.session.commit()
    titles = {row[0]: row[file.project_columns.index("name")] for row in file.projects}
    funded = {line.proposal.title for line in imported.publication.projects if line.funded}
    if file.selected() is not None:  # (Grabówka's file has no selected column)
        by_rule = {titles[pid] for pid in file.selected()}
        outside = {titles[pid] for pid in file.funded_outside()}
        assert by_rule <= funded <= by_rule | outside
    assert imported.ballots == sum(1 for row in file.votes if row[file.vote_columns.index("vote")].strip())
    page = app.test_client().get(f"/cycles/{imported.cycle.slug}/results/{imported.budget.id}")
    assert page.status_code == 200
