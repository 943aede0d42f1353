"""Real-world deviations from the pabulib format: read as the reference library
(pabutools 1.2.3) reads them, each with a warning that names its line; the CLI
prints them on stderr and in JSON, and its exit status does not change."""

import json
from collections import Counter

import pytest
from click.testing import CliRunner

from pbvote.tally.pabulib import PabulibError, PabulibWarning, dumps, parse
from pbvote.tally_cli import tally_command

pabutools = pytest.importorskip("pabutools")
from pabutools.election.pabulib import parse_pabulib_from_string  # noqa: E402

BASE = """META
key;value
budget;100
vote_type;{vote_type}
rule;greedy
PROJECTS
project_id;cost;name;selected
a;60;Park;1
b;50;Bench;0
c;40;Trees;1
VOTES
voter_id;vote{points_col}
"""


def file(votes, vote_type="approval", points=False):
    return BASE.format(vote_type=vote_type, points_col=";points" if points else "") + votes


def ours(text):
    """Our ballots as a multiset of (projects, points) voters."""
    election = parse(text).to_election()
    out = Counter()
    for b in election.ballots:
        projects = b.projects if election.vote_type == "ordinal" else tuple(sorted(b.projects))
        out[(projects, b.points)] += b.weight
    return out


def theirs(text):
    """pabutools' reading of the same text, in the same shape."""
    _, profile = parse_pabulib_from_string(text)
    out = Counter()
    for ballot in profile:
        kind = type(ballot).__name__
        if kind == "ApprovalBallot":
            out[(tuple(sorted(p.name for p in ballot)), None)] += 1
        elif kind == "OrdinalBallot":  # an ordered set: projects best first
            out[(tuple(p.name for p in ballot), None)] += 1
        else:  # cumulative: project -> points, in the order first listed
            items = list(ballot.items())
            out[(tuple(p.name for p, _ in items), tuple(int(v) for _, v in items))] += 1
    return out


def kinds(text):
    return [(w.line, w.kind) for w in parse(text).warnings]


def test_a_project_listed_twice_counts_once_like_the_reference():
    text = file("1;a,b,a\n2;c\n")
    assert ours(text) == theirs(text) == Counter({(("a", "b"), None): 1, (("c",), None): 1})
    assert kinds(text) == [(13, "vote-lists-project-twice")]
    assert "project a more than once; counted once" in str(parse(text).warnings[0])


def test_an_ordinal_vote_keeps_the_first_place_of_a_project_listed_twice():
    text = file("1;b,a,b,c\n2;c,a\n", vote_type="ordinal")
    assert ours(text) == theirs(text)
    assert (("b", "a", "c"), None) in ours(text)


def test_cumulative_points_of_a_project_listed_twice_are_its_last_ones_like_the_reference():
    text = file("1;a,b,a;3,1,2\n2;c;5\n", vote_type="cumulative", points=True)
    assert ours(text) == theirs(text) == Counter({(("a", "b"), (2, 1)): 1, (("c",), (5,)): 1})
    assert "points of its last mention" in str(parse(text).warnings[0])


def test_every_line_with_the_same_quirk_is_named():
    text = file("1;a,a\n2;b\n3;a,a\n")
    assert kinds(text) == [(13, "vote-lists-project-twice"), (15, "vote-lists-project-twice")]


def test_a_half_quoted_name_is_read_as_pythons_csv_reader_reads_it():
    text = file("1;a\n").replace("b;50;Bench;0", 'b;50;"Odkupmy" i my - kosze;0')
    pb = parse(text)
    assert pb.to_election().project("b").name == "Odkupmy i my - kosze"
    instance, _ = parse_pabulib_from_string(text)
    assert {p.name: m.get("name") for p, m in instance.project_meta.items()}["b"] == "Odkupmy i my - kosze"
    assert [(w.line, w.kind) for w in pb.warnings] == [(9, "half-quoted-field")]
    assert "'\"Odkupmy\" i my - kosze'" in pb.warnings[0].message
    # written back quoted properly: no warning the second time
    assert parse(dumps(pb)).warnings == () and parse(dumps(pb)) == pb


def test_a_quote_never_closed_is_an_error_at_the_line_it_opens():
    text = file("1;a\n2;b\n").replace("b;50;Bench;0", 'b;50;"Bench;0')
    with pytest.raises(PabulibError) as info:
        parse(text)
    assert info.value.line == 9 and "not closed" in str(info.value)


# (old text, new text, warning kind, lines warned, whether pabutools reads it too)
@pytest.mark.parametrize("old, new, kind, lines, reference", [
    ("a;60;Park;1", "a;60;Park;1;", "trailing-separator", [8], False),  # pabutools: IndexError
    ("voter_id;vote\n", "voter_id;vote;\n", "trailing-separator", [12], True),
    ("PROJECTS\n", "PROJECTS;\n", "trailing-separator", [6], True),
    ("project_id;cost;name;selected\n", "project_id;cost;name;selected;age\n", "short-row",
     [8, 9, 10], True),
    ("1;a,b", "1;a,b,", "empty-vote-item", [13], True),
    ("1;a,b", "1;a,,b", "empty-vote-item", [13], True),
    ("a;60;Park", "a;60,5;Park", "decimal-comma", [8], True),
    ("budget;100", "budget;100,5", "decimal-comma", [3], True),
    ("2;c", "1;c", "duplicate-voter", [14], True),
    ("budget;100", "budget;100\nnum_votes;7", "count-mismatch", [4], True),
    ("a;60;Park;1", "a;60;Park;yes", "selected-value", [8], True),
])
def test_each_deviation_is_read_with_a_warning_naming_its_line(old, new, kind, lines, reference):
    text = file("1;a,b\n2;c\n")
    assert old in text
    text = text.replace(old, new, 1)
    pb = parse(text)
    assert [(w.line, w.kind) for w in pb.warnings] == [(line, kind) for line in lines]
    assert pb.to_election().warnings == pb.warnings
    if reference:  # pabutools reads these ballots the same way
        assert ours(text) == theirs(text)


def test_a_decimal_comma_is_read_as_the_reference_reads_it():
    e = parse(file("1;a\n").replace("a;60;Park", "a;60,5;Park")).to_election()
    assert e.money_scale == 10 and e.project("a").cost == 605 and e.budget == 1000


def test_a_short_row_reads_the_missing_optional_fields_as_empty():
    pb = parse(file("1;a\n2;b;30\n").replace("voter_id;vote\n", "voter_id;vote;age\n"))
    assert pb.votes[0] == ("1", "a", "") and pb.warnings[0].kind == "short-row"


def test_the_clean_shared_files_have_no_warnings(shared_file, shared):
    pb, election = shared(shared_file)
    assert pb.warnings == () and election.warnings == ()


def test_quirk_files_warn_on_the_right_lines(shared_dir):
    from pbvote.tally.pabulib import read

    brodno = read(shared_dir / "quirks" / "Poland_Warszawa_2026_Brodno.pb")
    assert [(w.line, w.kind) for w in brodno.warnings] == [(357, "vote-lists-project-twice")]
    grabowka = read(shared_dir / "quirks" / "Poland_Czestochowa_2020_Grabowka.pb")
    assert [(w.line, w.kind) for w in grabowka.warnings] == [(29, "half-quoted-field")]
    assert grabowka.to_election().project("47").name.startswith("Odkupmy i my - zakup")


def run(path, *args):
    return CliRunner().invoke(tally_command, [str(path), *args])


def test_cli_prints_warnings_on_stderr_and_in_json_without_changing_the_exit(tmp_path):
    path = tmp_path / "q.pb"
    path.write_text(file("1;a,a\n2;c\n"), encoding="utf-8")
    res = run(path, "--rule", "greedy", "--check-selected")
    assert res.exit_code == 0, res.output
    assert res.stderr.splitlines()[0] == ("Warning: line 13: the vote lists project a more than "
                                          "once; counted once")
    data = json.loads(run(path, "--rule", "greedy", "--format", "json").stdout)
    assert data["warnings"] == [{"line": 13, "kind": "vote-lists-project-twice",
                                 "message": "the vote lists project a more than once; counted once"}]


def test_cli_sums_up_many_warnings_of_one_kind(tmp_path):
    path = tmp_path / "many.pb"
    path.write_text(file("".join(f"{i};a,a\n" for i in range(1, 31))), encoding="utf-8")
    res = run(path, "--rule", "greedy")
    assert res.exit_code == 0
    lines = res.stderr.splitlines()
    assert len(lines) == 21 and "10 more lines like these (vote-lists-project-twice)" in lines[-1]


def test_warning_text_names_the_line():
    assert str(PabulibWarning(7, "x", "something")) == "line 7: something"
    assert str(PabulibWarning(None, "x", "something")) == "something"
