"""The ``pbvote`` command."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
import sqlalchemy as sa
from conftest import count_rows

from pbvote.auth.models import Role, User
from pbvote.cli import cli
from pbvote.ballots.models import Ballot
from pbvote.cycles.models import Budget, Cycle, PhaseKind
from pbvote.demo import DEMO_ACCOUNTS, DEMO_PASSWORD, PROPOSALS
from pbvote.results.implementation import services as implementation
from pbvote.results.implementation.models import ImplementationStatus
from pbvote.extensions import db
from pbvote.places.models import District
from pbvote.proposals.models import Proposal, ProposalStatus


def run_pbvote(*args, env_extra=None, timeout=60):
    env = {**os.environ, **(env_extra or {})}
    return subprocess.run([sys.executable, "-c", "from pbvote.cli import main; main()", *args], capture_output=True, text=True, env=env, timeout=timeout)


def test_create_user(runner):
    result = runner.invoke(cli, ["create-user", "--email", "Chief@Example.org", "--role", "admin", "--password", "a long enough password"])
    assert result.exit_code == 0, result.output
    assert "Created admin chief@example.org" in result.output
    user = db.session.scalar(sa.select(User))
    assert user.role == Role.ADMIN and user.check_password("a long enough password")


def test_create_user_refuses_duplicates_and_weak_passwords(runner, make_user):
    make_user(email="taken@example.org")
    result = runner.invoke(cli, ["create-user", "--email", "taken@example.org", "--password", "a long enough password"])
    assert result.exit_code == 2 and "already exists" in result.output
    result = runner.invoke(cli, ["create-user", "--email", "new@example.org", "--password", "short"])
    assert result.exit_code == 2 and "at least 10 characters" in result.output
    assert count_rows(User) == 1


def test_demo_loads_a_deterministic_city_once(runner):
    result = runner.invoke(cli, ["demo"])
    assert result.exit_code == 0, result.output
    assert "Demo city loaded" in result.output and DEMO_PASSWORD in result.output
    cycle = db.session.scalar(sa.select(Cycle).where(Cycle.slug == "greenhill-2027"))
    assert cycle.is_published and cycle.is_in(PhaseKind.VOTING)
    past = db.session.scalar(sa.select(Cycle).where(Cycle.slug == "greenhill-2026"))
    assert past.is_in(PhaseKind.IMPLEMENTATION)
    assert count_rows(Ballot, Ballot.budget_id.in_([b.id for b in past.budgets])) > 200
    assert count_rows(Ballot, Ballot.participation_id.is_not(None), Ballot.budget_id.in_([b.id for b in past.budgets])) == 0
    assert count_rows(District) == 3
    budgets = db.session.scalars(sa.select(Budget).where(Budget.cycle_id == cycle.id).order_by(Budget.position)).all()
    assert [b.district is None for b in budgets] == [True, False, False, False]
    assert count_rows(Proposal, Proposal.cycle_id == cycle.id) >= len(PROPOSALS) >= 30
    statuses = set(db.session.scalars(sa.select(Proposal.status)))
    assert {ProposalStatus.FEASIBLE, ProposalStatus.UNFEASIBLE, ProposalStatus.MERGED, ProposalStatus.DRAFT, ProposalStatus.SUBMITTED} <= statuses
    roles = {u.role for u in db.session.scalars(sa.select(User))}
    assert {Role.RESIDENT, Role.VOLUNTEER, Role.STAFF, Role.ADMIN, Role.REVIEWER, Role.MODERATOR} <= roles
    titles = list(db.session.scalars(sa.select(Proposal.title).order_by(Proposal.id)))
    projects = implementation.funded_projects(past)
    assert {p.status for p in projects} == set(ImplementationStatus)  # done, in progress, planned, cancelled
    assert all(p.implementation.cancellation_reason for p in projects if p.status is ImplementationStatus.CANCELLED)
    assert any(m.is_done for p in projects for m in p.milestones) and any(m.note for p in projects for m in p.milestones)
    assert 0 < sum(p.pledges_fulfilled for p in projects) < sum(len(p.pledges) for p in projects)
    photos = [photo for p in projects for photo in p.photos]
    assert photos and all(photo.alt_text and os.path.isfile(implementation.photo_path(photo)) for photo in photos)
    again = runner.invoke(cli, ["demo"])
    assert again.exit_code == 0 and "already loaded" in again.output
    assert count_rows(Proposal) == len(titles)


def test_demo_accounts_can_sign_in(client, runner):
    from conftest import post_form

    runner.invoke(cli, ["demo"])
    for email, _name, _role, _district in DEMO_ACCOUNTS[:2]:
        c = client.application.test_client()
        assert post_form(c, "/sign-in", {"email": email, "password": DEMO_PASSWORD}).status_code == 302


@pytest.mark.parametrize(
    "args, message",
    [
        (["create-user", "--role", "king", "--email", "a@b.c", "--password", "xxxxxxxxxxxx"], "Invalid value for '--role'"),
        (["up", "--port", "99999"], "Invalid value for '--port'"),
        (["no-such-command"], "No such command"),
        (["create-user"], "Missing option '--email'"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(args, message, tmp_path):
    result = run_pbvote(*args, env_extra={"PBVOTE_DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite'}"})
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert message in lines[0] and "Traceback" not in result.stderr


def test_help_lists_the_commands():
    result = run_pbvote("--help")
    assert result.returncode == 0
    for command in ("up", "demo", "create-user", "db", "run", "shell", "routes"):
        assert f"  {command}" in result.stdout


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_up_migrates_loads_the_demo_and_serves(tmp_path):
    """The README's first command, end to end: a fresh SQLite database, the demo, a real server."""
    port = free_port()
    env = {**os.environ, "PBVOTE_DATABASE_URL": f"sqlite:///{tmp_path / 'up.sqlite'}"}
    env.pop("PBVOTE_ENV", None)
    process = subprocess.Popen(
        [sys.executable, "-c", "from pbvote.cli import main; main()", "up", "--port", str(port), "--workers", "1"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
    )
    try:
        deadline = time.monotonic() + 60
        body = None
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as response:
                    body = response.read().decode()
                    break
            except OSError:
                if process.poll() is not None:
                    break
                time.sleep(0.3)
        assert body is not None, process.stdout.read() if process.poll() is not None else "server did not answer"
        assert "Greenhill Participatory Budget 2027" in body
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
            assert response.status == 200
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=20)
    assert f"http://localhost:{port}/" in output
    assert "admin@demo.pbvote.org" in output and DEMO_PASSWORD in output
