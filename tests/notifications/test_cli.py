"""``pbvote worker`` and the worker ``pbvote up`` runs beside the server."""
from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request

import sqlalchemy as sa

from pbvote import create_app
from pbvote.cli import cli, upgrade_database
from pbvote.extensions import db
from pbvote.notifications import services
from pbvote.notifications.kinds import NotificationKind
from pbvote.notifications.models import OutboxEmail, OutboxStatus

from .conftest import MailServer, free_port


def test_worker_once_sends_what_is_due_and_says_so(app, runner, make_user, mail_server):
    services.notify(make_user(email="ann@example.org"), NotificationKind.COAUTHOR_INVITED, "/my/proposals", proposal="P")
    db.session.commit()
    result = runner.invoke(cli, ["worker", "--once"])
    assert result.exit_code == 0, result.output
    assert f"e-mail goes to 127.0.0.1:{mail_server.port} (no encryption)" in result.output
    assert "1 e-mail(s) sent, 0 to retry, 0 given up" in result.output
    assert [m["To"] for m in mail_server.messages] == ["ann@example.org"]


def test_worker_refuses_settings_that_cannot_work_in_one_line(tmp_path):
    env = {**os.environ, "PBVOTE_DATABASE_URL": f"sqlite:///{tmp_path / 'w.sqlite'}", "PBVOTE_MAIL_SECURITY": "tls"}
    for args in (["worker", "--once"], ["up", "--no-demo"]):
        result = subprocess.run([sys.executable, "-c", "from pbvote.cli import main; main()", *args],
                                capture_output=True, text=True, env=env, timeout=60)
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert result.returncode == 2 and len(lines) == 1, result.stderr
        assert "PBVOTE_MAIL_SECURITY must be one of none, starttls, ssl" in lines[0]


def test_worker_help_names_its_settings():
    result = subprocess.run([sys.executable, "-c", "from pbvote.cli import main; main()", "worker", "--help"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "--once" in result.stdout and "--interval" in result.stdout
    assert "PBVOTE_MAIL_SERVER" in result.stdout and "--stop-with-parent" not in result.stdout


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie (ended, not yet reaped by its parent) counts as gone
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_up_runs_a_worker_that_sends_and_stops_with_it(tmp_path):
    url = f"sqlite:///{tmp_path / 'up.sqlite'}"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():  # an e-mail waiting in the outbox before the site starts
        upgrade_database()
        from pbvote.auth.models import User

        from pbvote.timeutil import utcnow

        user = User(email="ann@example.org", display_name="Ann", password_hash="x", email_confirmed_at=utcnow())
        db.session.add(user)
        db.session.flush()
        services.notify(user, NotificationKind.COAUTHOR_INVITED, "/my/proposals", proposal="P")
        db.session.commit()
        db.engine.dispose()
    server = MailServer(port=free_port())
    server.start()
    port = free_port()
    env = {**os.environ, "PBVOTE_DATABASE_URL": url, "PBVOTE_MAIL_SERVER": "127.0.0.1",
           "PBVOTE_MAIL_PORT": str(server.port)}
    env.pop("PBVOTE_ENV", None)
    process = subprocess.Popen(
        [sys.executable, "-c", "from pbvote.cli import main; main()", "up", "--port", str(port), "--workers", "1",
         "--no-demo"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not server.messages:
            time.sleep(0.3)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as response:
            assert response.status == 200
        assert [m["To"] for m in server.messages] == ["ann@example.org"]
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=30)
        server.stop()
    line = next(line for line in output.splitlines() if line.startswith("Mail worker: running"))
    assert f"e-mail goes to 127.0.0.1:{server.port} (no encryption)" in line
    worker_pid = int(line.split("(process ")[1].split(")")[0])
    deadline = time.monotonic() + 10
    while alive(worker_pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not alive(worker_pid), output
    with app.app_context():
        assert db.session.scalar(sa.select(OutboxEmail.status)) == OutboxStatus.SENT
        db.engine.dispose()


def test_up_without_a_worker_says_how_to_run_one(tmp_path, monkeypatch):
    import pbvote.cli as pbvote_cli

    monkeypatch.setattr(pbvote_cli, "serve", lambda *args: None)
    monkeypatch.setattr(pbvote_cli, "start_worker", lambda: (_ for _ in ()).throw(AssertionError("started")))
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'nw.sqlite'}"})
    result = app.test_cli_runner().invoke(cli, ["up", "--no-worker", "--no-demo"])
    assert result.exit_code == 0, result.output
    assert "Mail worker: not started (--no-worker); run `pbvote worker`" in result.output
    with app.app_context():
        db.engine.dispose()
