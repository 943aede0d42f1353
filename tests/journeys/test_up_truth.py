"""Issue 16, journey 5: ``pbvote up`` prints demo sign-ins and codes only when the demo is loaded,
lists only unused codes, and on a database without the demo says how to load it."""
from __future__ import annotations

import pytest

from pbvote import cli as cli_module
from pbvote.ballots.demo import DEMO_VOTERS, demo_codes, unused_demo_codes
from pbvote.ballots.services import Voter, ballot_proposals, find_access_code, format_code
from pbvote.cli import cli
from pbvote.demo import load_demo


@pytest.fixture
def up(runner, monkeypatch):
    """``up()`` runs ``pbvote up`` without migrating (the test database is built already) or
    serving; returns its output."""
    monkeypatch.setattr(cli_module, "upgrade_database", lambda *a, **k: None)
    monkeypatch.setattr(cli_module, "serve", lambda *a, **k: None)

    def run(*args):
        result = runner.invoke(cli, ["up", *args])
        assert result.exit_code == 0, result.output
        return result.output

    return run


def test_up_on_a_database_without_the_demo_says_how_to_load_it(up, make_user):
    make_user("admin")
    output = up()
    assert "Demo sign-ins" not in output and "access codes, unused" not in output
    assert "pbvote demo" in output


def test_up_on_an_empty_database_with_no_demo_prints_no_sign_ins(up):
    output = up("--no-demo")
    assert "Demo sign-ins" not in output and "pbvote demo" in output


def test_up_lists_only_the_demo_codes_nobody_has_used(up, cast):
    load_demo()
    spare = demo_codes()[DEMO_VOTERS:]
    output = up()
    assert "Demo sign-ins" in output and all(format_code(code) in output for code in spare)

    code = find_access_code(spare[0])
    budget = next(b for b in code.batch.cycle.budgets if b.district_id == code.batch.district_id)
    cast(Voter(code=code), budget, [ballot_proposals(budget)[0]])
    assert spare[0] not in unused_demo_codes()
    output = up()
    assert format_code(spare[0]) not in output and format_code(spare[1]) in output
