"""pabulib reading and writing: lossless round trips, exact money, errors
that name the line."""

import pytest

from pbvote.tally import Ballot, Election, Project
from pbvote.tally.pabulib import PabulibError, dumps, from_election, parse, read

SMALL = """META
key;value
description;"Test; with ""quotes"" here"
budget;100.5
vote_type;cumulative
max_sum_points;10
min_project_score_threshold;3
my_custom_key;kept
PROJECTS
project_id;cost;votes;score;name;category;district
1;50.25;2;9;"Park; north";green;N
2;40;1;1;Library;culture;S
VOTES
voter_id;vote;points;age
a;1,2;8,1;30
b;1;1;41
"""


def test_round_trip_is_lossless_on_every_shared_file(shared_file, shared, shared_dir):
    pb, election = shared(shared_file)
    again = parse(dumps(pb))
    assert again == pb
    assert again.to_election() == election


def test_shared_file_counts_match_their_meta(shared_file, shared):
    pb, election = shared(shared_file)
    meta = pb.meta_dict
    assert len(election.projects) == int(meta["num_projects"])
    assert election.num_voters == len(pb.votes)


def test_reads_quoting_decimals_points_and_unknown_keys():
    pb = parse("\ufeff" + SMALL.replace("\n", "\r\n"))
    e = pb.to_election()
    assert e.money_scale == 100
    assert e.budget == 10050 and [p.cost for p in e.projects] == [5025, 4000]
    assert e.project("1").name == "Park; north"
    assert dict(e.project("1").extra) == {"votes": "2", "score": "9", "district": "N"}
    assert pb.meta_dict["description"] == 'Test; with "quotes" here'
    assert pb.meta_dict["my_custom_key"] == "kept"
    assert e.max_sum_points == 10 and e.min_project_score_threshold == 3
    assert sorted((b.projects, b.points) for b in e.ballots) == [(("1",), (1,)), (("1", "2"), (8, 1))]
    assert parse(dumps(pb)) == pb
    assert "age" in pb.vote_columns


@pytest.mark.parametrize("text, line, words", [
    (SMALL.replace("budget;100.5", "budget;lots"), 4, "not a number"),
    (SMALL.replace("2;40;1;1;Library", "1;40;1;1;Library"), 12, "appears twice"),
    (SMALL.replace("b;1;1;41", "b;7;1;41"), 16, "unknown project '7'"),
    (SMALL.replace("b;1;1;41", "b;1;1,2;41"), 16, "1 projects but 2 points"),
    (SMALL.replace("b;1;1;41", "b;1"), 16, "expected 4 fields, found 2"),
    (SMALL.replace("b;1;1;41", "b;1;1;41;x"), 16, "expected 4 fields, found 5"),
    (SMALL.replace("PROJECTS\n", ""), 9, "expected 2 fields, found 7"),
    (SMALL.replace("META\n", "", 1), 1, "must start with META"),
    (SMALL.replace("1;50.25", "1;-3"), 11, "non-negative"),
])
def test_malformed_input_names_line_and_problem(text, line, words):
    with pytest.raises(PabulibError) as info:
        parse(text)
    assert info.value.line == line
    assert words in str(info.value)
    assert str(info.value).startswith(f"line {line}: ")


def test_missing_budget_and_missing_votes_section_are_errors():
    with pytest.raises(PabulibError, match="budget"):
        parse(SMALL.replace("budget;100.5\n", ""))
    with pytest.raises(PabulibError, match="VOTES"):
        parse(SMALL[:SMALL.index("VOTES")] )


def test_export_of_an_election_reads_back_the_same():
    e = Election(budget=100, projects=[Project("x", 60, "X", "green"), Project("y", 40)],
                 ballots=[Ballot(("x", "y"), None, 2), Ballot(("y",), None, 1)],
                 max_length=2)
    back = parse(dumps(from_election(e))).to_election()
    assert back.budget == 100 and back.max_length == 2
    assert {(b.projects, b.weight) for b in back.ballots} == {(("x", "y"), 2), (("y",), 1)}
    assert back.project("x").name == "X"


def test_read_rejects_non_utf8(tmp_path):
    path = tmp_path / "bad.pb"
    path.write_bytes(SMALL.encode("utf-8") + b"\xff\xfe")
    with pytest.raises(PabulibError, match="UTF-8"):
        read(path)
