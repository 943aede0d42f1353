"""``pbvote up`` where it cannot write: one line naming the directory, exit status 2, no traceback.

The tests run as root, and root writes into a ``chmod -w`` directory anyway, so a read-only
directory is made another way: a path under a regular file (the directory can never be created —
the whole command, in a subprocess), or ``os.access`` answering "no" for one path (in this process,
as the kernel answers for a read-only mount or a directory the user may not write).
"""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from pbvote import cli as pbvote_cli


def run_up(env_extra: dict) -> subprocess.CompletedProcess:
    env = {**os.environ, **env_extra}
    env.pop("PBVOTE_ENV", None)
    return subprocess.run([sys.executable, "-c", "from pbvote.cli import main; main()", "up", "--no-demo"],
                          capture_output=True, text=True, env=env, timeout=120)


def one_line(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.fixture
def regular_file(tmp_path):
    path = tmp_path / "a-file"
    path.write_text("not a directory")
    return path


def test_up_names_the_sqlite_directory_it_cannot_create_in_one_line(tmp_path, regular_file):
    """The directory of the SQLite file lies under a regular file: it can never be created."""
    result = run_up({"PBVOTE_DATABASE_URL": f"sqlite:///{regular_file}/db/pbvote.sqlite",
                     "PBVOTE_UPLOAD_DIR": str(tmp_path / "uploads")})
    line = one_line(result)
    assert line.startswith("pbvote: error: ")
    assert f"{regular_file}/db must be writable" in line and "SQLite database" in line


def test_up_names_the_upload_directory_it_cannot_create_in_one_line(tmp_path, regular_file):
    """The database is fine, the upload directory lies under a regular file: refused before serving
    (it would otherwise fail at the first picture a resident adds), and nothing is migrated."""
    database = tmp_path / "ok.sqlite"
    result = run_up({"PBVOTE_DATABASE_URL": f"sqlite:///{database}", "PBVOTE_UPLOAD_DIR": f"{regular_file}/uploads"})
    line = one_line(result)
    assert f"{regular_file}/uploads must be writable" in line and "PBVOTE_UPLOAD_DIR" in line
    assert not database.exists()


@pytest.mark.parametrize("which", ["database", "uploads", "database file"])
def test_up_names_a_directory_the_user_may_not_write(tmp_path, monkeypatch, capsys, which):
    """``os.access`` says no for one path (as for a ``chmod -w`` directory of another user, or a
    read-only mount): ``pbvote up`` stops at once with that path, before migrating or serving."""
    database_dir, uploads = tmp_path / "db", tmp_path / "uploads"
    database_dir.mkdir()
    database = database_dir / "pbvote.sqlite"
    if which == "database file":
        database.write_bytes(b"")
    refused = {"database": database_dir, "uploads": uploads, "database file": database}[which]
    monkeypatch.setenv("PBVOTE_DATABASE_URL", f"sqlite:///{database}")
    monkeypatch.setenv("PBVOTE_UPLOAD_DIR", str(uploads))
    monkeypatch.delenv("PBVOTE_ENV", raising=False)
    monkeypatch.setenv("FLASK_RUN_FROM_CLI", "false")  # main() sets it; restored after the test
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda path, mode, **kw: False if str(path) == str(refused) else real_access(path, mode, **kw))
    served = []
    monkeypatch.setattr(pbvote_cli, "serve", lambda *args: served.append(args))
    monkeypatch.setattr(pbvote_cli, "upgrade_database", lambda *args: served.append("upgrade"))
    with pytest.raises(SystemExit) as exit_info:
        pbvote_cli.main(["up", "--no-demo"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith(f"pbvote: error: {refused} must be writable"), err
    assert served == []


def test_up_on_writable_directories_gets_past_the_check(tmp_path, monkeypatch):
    """The check lets a writable setup through (and creates the missing upload directory)."""
    uploads = tmp_path / "new" / "uploads"
    monkeypatch.setenv("PBVOTE_DATABASE_URL", f"sqlite:///{tmp_path / 'pbvote.sqlite'}")
    monkeypatch.setenv("PBVOTE_UPLOAD_DIR", str(uploads))
    monkeypatch.delenv("PBVOTE_ENV", raising=False)
    monkeypatch.setenv("FLASK_RUN_FROM_CLI", "false")  # main() sets it; restored after the test
    monkeypatch.delenv("PBVOTE_BASE_URL", raising=False)  # restored (absent) after the test
    served = []
    monkeypatch.setattr(pbvote_cli, "serve", lambda *args: served.append(args))
    with pytest.raises(SystemExit) as exit_info:
        pbvote_cli.main(["up", "--no-demo", "--port", "5999", "--no-worker"])
    assert exit_info.value.code == 0
    assert served == [("127.0.0.1", 5999, 2, 1)] and uploads.is_dir()
    # links in e-mails (written to the log on a developer's machine) point at this server
    assert os.environ["PBVOTE_BASE_URL"] == "http://localhost:5999"


@pytest.mark.parametrize("command", [
    ["db", "upgrade"],
    ["db", "downgrade", "base"],
    ["demo"],
    ["create-user", "--email", "first@example.org", "--role", "admin", "--password", "a long enough password"],
    ["import-pabulib", "{pb}"],
])
def test_every_command_that_writes_names_the_directory_in_one_line(tmp_path, regular_file, command):
    """Not only ``up``: each command that writes to the database stops before Alembic, SQLite or the
    importer can raise from deep inside, with the same one line and exit status 2."""
    pb = tmp_path / "election.pb"
    pb.write_text("META\nkey;value\n")
    argv = [arg.replace("{pb}", str(pb)) for arg in command]
    env = {**os.environ, "PBVOTE_DATABASE_URL": f"sqlite:///{regular_file}/db/pbvote.sqlite",
           "PBVOTE_UPLOAD_DIR": str(tmp_path / "uploads")}
    env.pop("PBVOTE_ENV", None)
    result = subprocess.run([sys.executable, "-c", "from pbvote.cli import main; main()", *argv],
                            capture_output=True, text=True, env=env, timeout=120)
    line = one_line(result)
    assert line.startswith("pbvote: error: ") and f"{regular_file}/db must be writable" in line
