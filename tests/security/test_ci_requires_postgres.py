"""Finding 11: CI could pass without PostgreSQL ("PostgreSQL: SKIPPED").  ``PBVOTE_REQUIRE_POSTGRES=1``
(set by ``.ci/run``) makes a run without a reachable PostgreSQL fail at once, and ``.ci/run`` fails
when it cannot reach or start PostgreSQL."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _pytest(env_overrides: dict) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PBVOTE_TEST_DATABASE_URL", "PBVOTE_REQUIRE_POSTGRES")}
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_config.py", "-k", "nothing_matches_this"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )


def test_a_run_that_requires_postgres_fails_without_a_database_url():
    run = _pytest({"PBVOTE_REQUIRE_POSTGRES": "1"})
    assert run.returncode != 0
    assert "PBVOTE_REQUIRE_POSTGRES=1 needs PBVOTE_TEST_DATABASE_URL" in run.stdout + run.stderr


def test_a_run_that_requires_postgres_fails_when_postgres_does_not_answer():
    run = _pytest({"PBVOTE_REQUIRE_POSTGRES": "1",
                   "PBVOTE_TEST_DATABASE_URL": "postgresql+psycopg://postgres@127.0.0.1:1/nothing?connect_timeout=2"})
    assert run.returncode != 0
    assert "PostgreSQL does not answer" in run.stdout + run.stderr


def test_ci_sets_the_switch_and_fails_instead_of_skipping_postgres():
    script = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "PBVOTE_REQUIRE_POSTGRES=1" in script
    assert "SKIPPED (not reachable" not in script and "exit 1" in script
