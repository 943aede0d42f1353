"""``pbvote tally`` never prints a traceback: a malformed file gives one line on
stderr (``Error: ...``, naming the line where it can) and exit status 2; a
valid file with decimal money prints correctly as text and as JSON.

The regression tests pin the cases that used to crash; the Hypothesis test
mutates small real pabulib files (truncated, sections swapped, dropped or
repeated, numbers corrupted, ids duplicated, odd encodings) and runs the
command on each.
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from pbvote.tally import COMPLETIONS, RULES
from pbvote.tally.amounts import AmountError, decimal_text, format_money, parse_amount
from pbvote.tally.pabulib import PabulibError, parse
from pbvote.tally_cli import tally_command

from .conftest import NO_DATA, pabulib_dir

DECIMAL = """META
key;value
budget;7200.5
vote_type;approval
rule;greedy
PROJECTS
project_id;cost;name;selected
a;3600.25;Park;1
b;2000;Bench;1
c;1500.5;Trees;1
VOTES
voter_id;vote
1;a
2;a,b
3;b,c
"""


def run(path, *args):
    return CliRunner().invoke(tally_command, [str(path), *args])


def assert_one_line_error(res, *words):
    """Exit 2, no traceback, exactly one ``Error: ...`` line on stderr."""
    assert res.exit_code == 2, (res.output, res.exception)
    assert res.exception is None or isinstance(res.exception, SystemExit), res.exception
    assert "Traceback" not in res.output
    assert res.stderr.startswith("Error: ") and res.stderr.count("\n") == 1, res.stderr
    assert "internal error" not in res.stderr, res.stderr
    for word in words:
        assert word in res.stderr, (word, res.stderr)


@pytest.fixture
def write(tmp_path):
    def write(text: str | bytes, name: str = "x.pb"):
        path = tmp_path / name
        if isinstance(text, str):
            path.write_text(text, encoding="utf-8", newline="")
        else:
            path.write_bytes(text)
        return path
    return write


# -- decimal money ---------------------------------------------------------------


@pytest.mark.parametrize("rule", ["greedy", "mes", "knapsack", "phragmen"])
def test_decimal_money_prints_as_text(write, rule):
    res = run(write(DECIMAL), "--rule", rule)
    assert res.exit_code == 0, (res.output, res.exception)
    assert "budget 7,200.50" in res.stdout
    assert "3,600.25" in res.stdout and "2,000.00" in res.stdout and "1,500.50" in res.stdout
    assert "360,025" not in res.stdout  # no amount in hundredths


def test_decimal_money_reasons_are_in_the_currency_unit(write):
    res = run(write(DECIMAL), "--rule", "greedy")
    assert "7,200.50 was left, it costs 3,600.25" in res.stdout
    assert "1,600.25 was left, it costs 1,500.50" in res.stdout


def test_decimal_money_prints_as_json_exactly(write):
    res = run(write(DECIMAL), "--rule", "mes", "--completion", "add1", "--format", "json")
    assert res.exit_code == 0, (res.output, res.exception)
    data = json.loads(res.stdout)
    assert data["budget"] == "7200.5"
    assert {p["id"]: p["cost"] for p in data["projects"]} == {"a": "3600.25", "b": 2000, "c": "1500.5"}
    # per-voter shares are money too: in the currency unit, like the budget
    assert data["parameters"]["per_voter_share"] == pytest.approx(7200.5 / 3, abs=1e-6)
    assert data["parameters"]["final_per_voter_share"] < 7200.5


def test_decimal_money_from_file_check_selected(write):
    res = run(write(DECIMAL), "--rule", "from-file", "--check-selected")
    assert res.exit_code == 0, (res.output, res.exception)


# -- malformed files: one line, exit 2 ---------------------------------------------


@pytest.mark.parametrize("old, new, words", [
    ("budget;7200.5", "budget;1e400", ["line 3", "META budget", "too large", "'1e400'"]),
    ("budget;7200.5", "budget;" + "9" * 400, ["line 3", "too large", "..."]),
    ("a;3600.25;Park", "a;" + "1" * 400 + ";Park", ["line 8", "cost of project 'a'", "too large"]),
    ("budget;7200.5", "budget;1e-400", ["line 3", "too many decimal places"]),
    ("budget;7200.5", "budget;NaN", ["line 3", "not a number", "'NaN'"]),
    ("budget;7200.5", "budget;Infinity", ["line 3", "not a number"]),
    ("budget;7200.5", "budget;-5", ["line 3", "non-negative"]),
    ("budget;7200.5", "budget;1_000", ["line 3", "not a number"]),
    ("budget;7200.5", "budget;", ["line 3", "no budget"]),
    ("b;2000;Bench", "b;;Bench", ["line 9", "cost of project 'b'", "not a number: ''"]),
    ("c;1500.5;Trees", "a;1500.5;Trees", ["line 10", "project 'a' appears twice"]),
    ("3;b,c", "3;b,zz", ["line 15", "unknown project 'zz'"]),
    ("b;2000;Bench", "b;20\x0000;Bench", ["line 9", "not a number"]),
    ("project_id;cost;name;selected\na;3600.25;Park;1\nb;2000;Bench;1\nc;1500.5;Trees;1\n", "",
     ["line 7", "section PROJECTS has no header line"]),
    ("voter_id;vote\n", "", ["line 12", "VOTES header must start with voter_id"]),
    ("VOTES\nvoter_id;vote\n1;a\n2;a,b\n3;b,c\n", "VOTES\n", ["section VOTES header is missing"]),
])
def test_malformed_file_exits_2_with_one_line(write, old, new, words):
    assert old in DECIMAL
    res = run(write(DECIMAL.replace(old, new, 1)), "--rule", "mes", "--completion", "add1")
    assert_one_line_error(res, *words)


@pytest.mark.parametrize("points, words", [
    ("1e400", ["line 14", "points is too large"]),
    ("9" * 400, ["line 14", "points is too large"]),
    ("-5", ["line 14", "non-negative"]),
    ("2.5", ["line 14", "whole number"]),
    ("", ["line 14", "1 projects but 0 points"]),
    ("NaN", ["line 14", "not a number"]),
])
def test_malformed_points_exit_2_with_one_line(write, points, words):
    text = (DECIMAL.replace("vote_type;approval", "vote_type;cumulative")
            .replace("voter_id;vote\n1;a\n2;a,b\n3;b,c", f"voter_id;vote;points\n1;a;1\n2;a,b;{points},1\n3;b,c;1,1")
            .replace("2;a,b;" + points + ",1", "2;a;" + points))
    res = run(write(text), "--rule", "mes", "--utility", "points")
    assert_one_line_error(res, *words)


def test_latin1_bytes_exit_2_with_one_line(write):
    res = run(write(DECIMAL.replace("Park", "Parc \xe9t\xe9").encode("latin-1")), "--rule", "greedy")
    assert_one_line_error(res, "not UTF-8")


def test_bom_crlf_and_nul_in_a_name_are_read(write):
    text = "\ufeff" + DECIMAL.replace("Park", "Pa\x00rk").replace("\n", "\r\n")
    res = run(write(text), "--rule", "greedy")
    assert res.exit_code == 0, (res.output, res.exception)
    assert "budget 7,200.50" in res.stdout


def test_a_directory_exits_2_with_one_line(tmp_path):
    assert_one_line_error(run(tmp_path, "--rule", "greedy"), "cannot read")


def test_reader_errors_name_the_line():
    with pytest.raises(PabulibError) as info:
        parse(DECIMAL.replace("budget;7200.5", "budget;1e400"))
    assert info.value.line == 3 and "too large" in str(info.value)


# -- the one place numbers are read and money is written ----------------------------


@pytest.mark.parametrize("text, expected", [
    ("7200", (7200, 0)), (" 7200.50 ", (72005, 1)), ("0.25", (25, 2)), (".5", (5, 1)),
    ("7.", (7, 0)), ("1e3", (1000, 0)), ("1.5E2", (150, 0)), ("12e-2", (12, 2)),
    ("0", (0, 0)), ("-0", (0, 0)), ("000120", (120, 0)), ("+3", (3, 0)),
    ("9" * 24, (10**24 - 1, 0)), ("0.123456789", (123456789, 9)),
])
def test_parse_amount_is_exact(text, expected):
    assert parse_amount(text) == expected


@pytest.mark.parametrize("text", ["", "x", "NaN", "nan", "Infinity", "-inf", "1_000", "1,5", "--1",
                                  "1e400", "1" * 25, "1e24", "0.0000000001", "1e-400", "-5",
                                  "1e9999999", "\u0663", "1 000", "0x10", "5e"])
def test_parse_amount_refuses(text):
    with pytest.raises(AmountError):
        parse_amount(text)


def test_money_text_is_exact_at_any_size():
    from fractions import Fraction

    assert decimal_text(720050, 100) == "7200.5" and decimal_text(4000, 100) == "40"
    assert decimal_text(10**30 + 1, 10**9) == "1000000000000000000000.000000001"
    assert format_money(720050, 100) == "7,200.50"
    assert format_money(1234) == "1,234"
    assert format_money(Fraction(10, 3)) == "3.33"
    assert format_money(Fraction(1000, 3), 100) == "3.3333"
    assert format_money(10**33, 10**9) == "1,000,000,000,000,000,000,000,000.000000000"


# -- mutated real files ---------------------------------------------------------------

DATA = pabulib_dir()
SMALL_FILES = ("Netherlands_Assen_2024.pb", "Worldwide_Mechanical_Turk_Knapsack_7.pb",
               "Switzerland_Zurich_S5R.pb", "quirks/Poland_Czestochowa_2020_Grabowka.pb",
               "quirks/Poland_Gdynia_2020_Babie_Doly__small.pb")
BAD_NUMBERS = ("1e400", "NaN", "-5", "7200.5", "9" * 400, "", "Infinity", "1e-400", "0", "-0",
               "0.000000001", " 12 ", "1_000", "+7", "1e3", "\u0663", "0x1F", "1,5", "12abc")
CHOICES = tuple(RULES) + ("from-file",)


def _lines(data: bytes) -> list[bytes]:
    return data.splitlines(keepends=True)


def _sections(data: bytes) -> list[list[bytes]]:
    """The file cut before each section name (the part before META first)."""
    parts: list[list[bytes]] = [[]]
    for line in _lines(data):
        if line.strip().upper() in (b"META", b"PROJECTS", b"VOTES"):
            parts.append([])
        parts[-1].append(line)
    return parts


@st.composite
def mutated_files(draw):
    data = (DATA / draw(st.sampled_from(SMALL_FILES))).read_bytes()
    for _ in range(draw(st.integers(1, 3))):
        op = draw(st.sampled_from(["truncate", "swap", "drop-section", "repeat-section", "number",
                                   "repeat-project", "unknown-project", "drop-line", "latin-1",
                                   "bom", "crlf", "nul", "quote", "empty-field"]))
        lines = _lines(data)
        if op == "truncate":
            data = data[:draw(st.integers(0, len(data)))]
        elif op in ("swap", "drop-section", "repeat-section"):
            parts = _sections(data)
            i = draw(st.integers(0, len(parts) - 1))
            j = draw(st.integers(0, len(parts) - 1))
            if op == "swap":
                parts[i], parts[j] = parts[j], parts[i]
            elif op == "drop-section":
                del parts[i]
            else:
                parts.insert(j, list(parts[i]))
            data = b"".join(b"".join(p) for p in parts)
        elif op in ("number", "empty-field") and lines:
            i = draw(st.integers(0, len(lines) - 1))
            fields = lines[i].rstrip(b"\r\n").split(b";")
            k = draw(st.integers(0, len(fields) - 1))
            bad = "" if op == "empty-field" else draw(st.sampled_from(BAD_NUMBERS))
            fields[k] = bad.encode("utf-8")
            lines[i] = b";".join(fields) + b"\n"
            data = b"".join(lines)
        elif op == "repeat-project":
            parts = _sections(data)
            projects = [p for p in parts if p and p[0].strip().upper() == b"PROJECTS"]
            if projects and len(projects[0]) > 2:
                rows = projects[0]
                rows.insert(draw(st.integers(2, len(rows))), rows[draw(st.integers(2, len(rows) - 1))])
            data = b"".join(b"".join(p) for p in parts)
        elif op == "unknown-project" and lines:
            i = draw(st.integers(0, len(lines) - 1))
            fields = lines[i].rstrip(b"\r\n").split(b";")
            if len(fields) > 1:
                fields[1] = draw(st.sampled_from([b"999999", b"1,999999", b"zz,", b"1,1"]))
            lines[i] = b";".join(fields) + b"\n"
            data = b"".join(lines)
        elif op == "drop-line" and lines:
            del lines[draw(st.integers(0, len(lines) - 1))]
            data = b"".join(lines)
        elif op == "latin-1":
            at = draw(st.integers(0, len(data)))
            data = data[:at] + "\xe9t\xe9".encode("latin-1") + data[at:]
        elif op == "bom":
            data = b"\xef\xbb\xbf" + data
        elif op == "crlf":
            data = data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
        elif op in ("nul", "quote"):
            at = draw(st.integers(0, len(data)))
            data = data[:at] + (b"\0" if op == "nul" else b'"') + data[at:]
    return data


@pytest.mark.skipif(DATA is None, reason=NO_DATA)
@settings(max_examples=200, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(data=mutated_files(), rule=st.sampled_from(CHOICES),
       completion=st.sampled_from(COMPLETIONS), fmt=st.sampled_from(["text", "json"]),
       check=st.booleans())
def test_mutated_real_files_never_give_a_traceback(tmp_path_factory, data, rule, completion, fmt,
                                                    check):
    path = tmp_path_factory.mktemp("mutated") / "m.pb"
    path.write_bytes(data)
    args = ["--rule", rule, "--format", fmt] + (["--check-selected"] if check else [])
    if rule == "mes":
        args += ["--completion", completion]
    res = run(path, *args)
    event(f"exit {res.exit_code}")
    assert res.exit_code in (0, 1, 2), (res.exit_code, res.output, res.exception)
    assert res.exception is None or isinstance(res.exception, SystemExit), repr(res.exception)
    assert "Traceback" not in res.output
    assert "internal error" not in res.stderr, res.stderr
    if res.exit_code == 2:
        assert res.stderr.startswith("Error: ") and res.stderr.count("\n") == 1, res.stderr
    elif not check:  # warnings (the file's quirks) and notes only, one per line
        assert res.stdout
        assert all(line.startswith(("Warning: ", "Note: ")) for line in res.stderr.splitlines())
    if res.exit_code == 0 and fmt == "json":
        assert "selected" in json.loads(res.stdout)
