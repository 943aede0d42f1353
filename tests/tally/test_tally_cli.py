"""The ``tally`` click command, run with click's CliRunner."""

import json

import pytest
from click.testing import CliRunner

from pbvote.tally_cli import tally_command

SMALL = """META
key;value
budget;100
vote_type;approval
rule;greedy
PROJECTS
project_id;cost;name;selected
a;60;Park;1
b;50;Bench;0
c;40;Trees;1
VOTES
voter_id;vote
1;a
2;a,b
3;b,c
4;c
5;a,c
"""


@pytest.fixture
def small(tmp_path):
    path = tmp_path / "small.pb"
    path.write_text(SMALL, encoding="utf-8")
    return str(path)


def run(*args):
    return CliRunner().invoke(tally_command, list(args))


def test_json_output_has_the_documented_shape(small):
    res = run(small, "--rule", "greedy", "--format", "json")
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert set(data) == {"rule", "parameters", "budget", "total_cost", "selected", "reserve",
                         "notes", "projects", "satisfaction", "seconds", "warnings"}
    assert data["warnings"] == [] and data["notes"] == [] and data["reserve"] == []
    assert data["selected"] == ["a", "c"] and data["total_cost"] == 100 and data["budget"] == 100
    assert set(data["projects"][0]) == {"id", "cost", "score", "selected", "reason"}
    assert data["satisfaction"]["voters_with_funded_project"] == 5


def test_text_output_is_a_table(small):
    res = run(small, "--rule", "mes", "--completion", "add1")
    assert res.exit_code == 0, res.output
    assert "rule mes" in res.stdout and "reason" in res.stdout
    assert res.stdout.count("\n") >= 7


def test_from_file_check_selected_passes_and_fails(small, tmp_path):
    ok = run(small, "--rule", "from-file", "--check-selected")
    assert ok.exit_code == 0, ok.output
    wrong = tmp_path / "wrong.pb"
    wrong.write_text(SMALL.replace("b;50;Bench;0", "b;50;Bench;1"), encoding="utf-8")
    res = run(str(wrong), "--rule", "from-file", "--check-selected")
    assert res.exit_code == 1
    assert "['b']" in res.stderr


@pytest.mark.parametrize("args, words", [
    (["--rule", "dictator"], "unknown rule 'dictator'"),
    (["--rule", "mes", "--completion", "add7"], "unknown completion"),
    (["--rule", "mes", "--format", "xml"], "unknown format"),
    (["--rule", "greedy-custom", "--reserve", "101"], "whole percentage"),
    (["--rule", "greedy-custom", "--reserve", "8O"], "whole percentage"),
    (["--rule", "greedy", "--reserve", "80"], "takes no reserve"),
    (["--rule", "greedy", "--exclusive-group", "a,zz"], "unknown project 'zz'"),
    (["--rule", "greedy", "--exclusive-group", "a,b"], "does not honour"),
])
def test_unknown_rule_or_option_exits_2_with_one_line(small, args, words):
    res = run(small, *args)
    assert res.exit_code == 2
    assert words in res.stderr
    assert res.stderr.count("\n") == 1


def test_bad_or_missing_file_exits_2_with_one_line(tmp_path):
    bad = tmp_path / "bad.pb"
    bad.write_text(SMALL.replace("3;b,c", "3;b,zz"), encoding="utf-8")
    res = run(str(bad), "--rule", "greedy")
    assert res.exit_code == 2
    assert "line 15" in res.stderr and "unknown project 'zz'" in res.stderr
    assert res.stderr.count("\n") == 1
    missing = run(str(tmp_path / "nope.pb"), "--rule", "greedy")
    assert missing.exit_code == 2 and missing.stderr.count("\n") == 1


def test_from_file_with_an_unimplemented_meta_rule_exits_2(tmp_path):
    path = tmp_path / "x.pb"
    path.write_text(SMALL.replace("rule;greedy", "rule;equalshares/add1-comparison"), encoding="utf-8")
    res = run(str(path), "--rule", "from-file")
    assert res.exit_code == 2 and "add1-comparison" in res.stderr


def test_swiecie_published_result_is_reproduced(shared_dir):
    res = run(str(shared_dir / "Poland_Swiecie_2023.pb"), "--rule", "from-file", "--check-selected")
    assert res.exit_code == 0, res.output
