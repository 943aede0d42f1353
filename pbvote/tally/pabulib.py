"""Read and write the pabulib ``.pb`` format (https://pabulib.org/format).

A ``.pb`` file has three sections, each a ``;``-separated CSV table with a
header line::

    META                 PROJECTS                        VOTES
    key;value            project_id;cost;...             voter_id;vote;...
    budget;100000        1;5000;...                      7;1,3;...

Fields follow CSV quoting (``"a;b"``, doubled ``""``); a UTF-8 byte-order
mark and CRLF line ends are accepted. :func:`parse` keeps the file *as
text* in a :class:`PabulibFile` - every META key (known or not), every
project and vote column, in order - so :func:`dumps` writes back the same
data (parse -> write -> parse gives an equal :class:`PabulibFile`).
:meth:`PabulibFile.to_election` then builds the typed :class:`Election`
the rules work on, scaling decimal money to integers exactly: every number
is read by :func:`pbvote.tally.amounts.parse_amount` (non-negative, decimal
notation, bounded size), so a file either gives an exact election or an error.

Parsing is one pass over the file with the standard ``csv`` module plus a
dictionary of distinct ballots, so it is linear in the file size. Anything
malformed raises :class:`PabulibError` naming the line and the problem.
"""

from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass

from .amounts import AmountError, decimal_text, parse_amount, parse_whole
from .model import VOTE_TYPES, Ballot, Election, FrozenMap, Project

SECTIONS = ("META", "PROJECTS", "VOTES")
INT_META_KEYS = (
    "min_length",
    "max_length",
    "min_sum_points",
    "max_sum_points",
    "min_project_score_threshold",
)
MONEY_META_KEYS = ("budget", "max_sum_cost")


class PabulibError(ValueError):
    """A malformed ``.pb`` file. ``line`` is 1-based (``None`` if global)."""

    def __init__(self, message: str, line: int | None = None):
        self.line = line
        self.problem = message
        super().__init__(f"line {line}: {message}" if line else message)


@dataclass(frozen=True)
class PabulibFile:
    """The content of a ``.pb`` file, field by field, as text."""

    meta: tuple[tuple[str, str], ...]
    project_columns: tuple[str, ...]
    projects: tuple[tuple[str, ...], ...]
    vote_columns: tuple[str, ...]
    votes: tuple[tuple[str, ...], ...]
    # 1-based line numbers of the rows above (not part of equality)
    meta_lines: tuple[int, ...] = ()
    project_lines: tuple[int, ...] = ()
    vote_lines: tuple[int, ...] = ()

    def __eq__(self, other):
        if not isinstance(other, PabulibFile):
            return NotImplemented
        return (
            self.meta == other.meta
            and self.project_columns == other.project_columns
            and self.projects == other.projects
            and self.vote_columns == other.vote_columns
            and self.votes == other.votes
        )

    __hash__ = None  # large; compare, do not hash

    @property
    def meta_dict(self) -> dict[str, str]:
        return dict(self.meta)

    def column(self, name: str) -> dict[str, str] | None:
        """Project id -> the value of a project column (``None`` if absent)."""
        if name not in self.project_columns:
            return None
        i = self.project_columns.index(name)
        return {row[0]: row[i] for row in self.projects}

    def selected(self) -> tuple[str, ...] | None:
        """Ids of the projects the file marks as funded (``selected`` > 0)."""
        col = self.column("selected")
        if col is None:
            return None
        return tuple(pid for pid, v in col.items() if v.strip() not in ("", "0"))

    def to_election(self, scoring: str = "borda") -> Election:
        """Build the typed election; decimal money becomes integers exactly."""
        cache = self.__dict__.setdefault("_elections", {})
        if scoring not in cache:
            try:
                cache[scoring] = self._build_election(scoring)
            except PabulibError:
                raise
            except ValueError as exc:  # the model's own checks: a file error too
                raise PabulibError(str(exc)) from None
        return cache[scoring]

    def _build_election(self, scoring: str) -> Election:
        meta = self.meta_dict
        vote_type = meta.get("vote_type", "approval").strip()
        if vote_type not in VOTE_TYPES:
            raise PabulibError(f"unknown vote_type {vote_type!r}", _meta_line(self, "vote_type"))
        if not meta.get("budget", "").strip():
            raise PabulibError("META has no budget", _meta_line(self, "budget"))
        cols = self.project_columns
        i_cost = cols.index("cost")
        # every amount as (units, decimal places); then one scale for all of them
        money = {k: _amount(meta[k], f"META {k}", _meta_line(self, k))
                 for k in MONEY_META_KEYS if meta.get(k, "").strip()}
        costs = [
            _amount(row[i_cost], f"cost of project {row[0]!r}", _line(self.project_lines, n))
            for n, row in enumerate(self.projects)
        ]
        places = max((p for _, p in [*money.values(), *costs]), default=0)
        scale = 10**places

        def scaled(amount: tuple[int, int]) -> int:
            return amount[0] * 10 ** (places - amount[1])

        ints = {}
        for k in INT_META_KEYS:
            if meta.get(k, "").strip():
                ints[k] = _whole(meta[k], f"META {k}", _meta_line(self, k))
        known = {"project_id", "cost", "name", "category"}
        extra_cols = [(i, c) for i, c in enumerate(cols) if c not in known]
        i_name = cols.index("name") if "name" in cols else None
        i_cat = cols.index("category") if "category" in cols else None
        projects = tuple(
            Project(
                id=row[0],
                cost=scaled(cost),
                name=row[i_name] if i_name is not None else "",
                category=row[i_cat] if i_cat is not None else "",
                extra=FrozenMap((c, row[i]) for i, c in extra_cols),
            )
            for row, cost in zip(self.projects, costs)
        )
        ballots = self._ballots(vote_type, {p.id for p in projects})
        return Election(
            budget=scaled(money["budget"]),
            projects=projects,
            ballots=ballots,
            vote_type=vote_type,
            money_scale=scale,
            max_sum_cost=scaled(money["max_sum_cost"]) if "max_sum_cost" in money else None,
            scoring=scoring,
            meta=FrozenMap(self.meta),
            **ints,
        )

    def _ballots(self, vote_type: str, known: set[str]) -> tuple[Ballot, ...]:
        i_vote = self.vote_columns.index("vote")
        i_points = self.vote_columns.index("points") if "points" in self.vote_columns else None
        if vote_type in ("cumulative", "scoring") and i_points is None:
            raise PabulibError(f"{vote_type} votes need a points column")
        # one pass: count distinct (vote, points) texts, then check each once
        counts: dict[tuple[str, str], list[int]] = {}
        for n, row in enumerate(self.votes):
            key = (row[i_vote], row[i_points] if i_points is not None else "")
            entry = counts.get(key)
            if entry is None:
                counts[key] = [1, n]
            else:
                entry[0] += 1
        use_points = vote_type in ("cumulative", "scoring", "ordinal") and i_points is not None
        unordered = vote_type in ("approval", "choose-1")
        groups: dict[tuple, int] = {}
        for (vote, points), (weight, n) in counts.items():
            line = _line(self.vote_lines, n)
            ids = tuple([v.strip() for v in vote.split(",")]) if vote.strip() else ()
            for pid in ids:
                if pid not in known:
                    raise PabulibError(f"vote lists unknown project {pid!r}", line)
            if len(set(ids)) != len(ids):
                raise PabulibError("vote lists a project twice", line)
            pts = None
            if use_points and (points.strip() or ids):
                raw = points.split(",") if points.strip() else []
                if len(raw) != len(ids):
                    raise PabulibError(
                        f"vote lists {len(ids)} projects but {len(raw)} points", line
                    )
                pts = tuple([_whole(p, "points", line) for p in raw])
            if unordered:
                ids = tuple(sorted(ids))
            key = (ids, pts)
            groups[key] = groups.get(key, 0) + weight
        # ballots in order of first appearance; grouping is exact, so no rule
        # depends on this order
        return tuple(Ballot._checked_elsewhere(ids, pts, w) for (ids, pts), w in groups.items())


def _line(lines: tuple[int, ...], n: int) -> int | None:
    return lines[n] if n < len(lines) else None


def _meta_line(pb: PabulibFile, key: str) -> int | None:
    for (k, _), line in zip(pb.meta, pb.meta_lines):
        if k == key:
            return line
    return None


def _shown(text: str) -> str:
    """A field as an error message quotes it (long ones cut)."""
    text = text.strip()
    return repr(text if len(text) <= 40 else text[:37] + "...")


def _amount(text: str, what: str, line: int | None) -> tuple[int, int]:
    try:
        return parse_amount(text)
    except AmountError as exc:
        raise PabulibError(f"{what} {exc}: {_shown(text)}", line) from None


def _whole(text: str, what: str, line: int | None) -> int:
    try:
        return parse_whole(text)
    except AmountError as exc:
        raise PabulibError(f"{what} {exc}: {_shown(text)}", line) from None


def parse(text: str) -> PabulibFile:
    """Parse the text of a ``.pb`` file (see the module docstring)."""
    if text.startswith("\ufeff"):
        text = text[1:]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=";", strict=True)
    section = None
    header: list[str] | None = None
    meta: list[tuple[str, str]] = []
    meta_lines: list[int] = []
    meta_keys: set[str] = set()
    project_columns: tuple[str, ...] = ()
    vote_columns: tuple[str, ...] = ()
    projects: list[tuple[str, ...]] = []
    project_lines: list[int] = []
    project_ids: set[str] = set()
    votes: list[tuple[str, ...]] = []
    vote_lines: list[int] = []
    voter_ids: set[str] = set()
    seen_sections: list[str] = []
    try:
        for row in reader:
            line = reader.line_num
            if not row or (len(row) == 1 and not row[0].strip()):
                continue
            if len(row) == 1 and row[0].strip().upper() in SECTIONS:
                name = row[0].strip().upper()
                expected = SECTIONS[len(seen_sections)] if len(seen_sections) < 3 else None
                if name != expected:
                    raise PabulibError(f"section {name} found where {expected or 'the end'} was expected", line)
                if section is not None and header is None:
                    raise PabulibError(f"section {section} has no header line", line)
                seen_sections.append(name)
                section, header = name, None
                continue
            if section is None:
                raise PabulibError("the file must start with META", line)
            if header is None:
                header = [h.strip() for h in row]
                if section == "META":
                    if header[:2] != ["key", "value"]:
                        raise PabulibError("the META header must be 'key;value'", line)
                elif section == "PROJECTS":
                    if header[:1] != ["project_id"] or "cost" not in header:
                        raise PabulibError("the PROJECTS header must start with project_id and have a cost column", line)
                    project_columns = tuple(header)
                else:
                    if header[:1] != ["voter_id"] or "vote" not in header:
                        raise PabulibError("the VOTES header must start with voter_id and have a vote column", line)
                    vote_columns = tuple(header)
                if len(set(header)) != len(header):
                    raise PabulibError("a column name appears twice", line)
                continue
            if len(row) != len(header):
                raise PabulibError(f"expected {len(header)} fields, found {len(row)}", line)
            if section == "META":
                key = row[0].strip()
                if key in meta_keys:
                    raise PabulibError(f"META key {key!r} appears twice", line)
                meta_keys.add(key)
                meta.append((key, row[1]))
                meta_lines.append(line)
            elif section == "PROJECTS":
                pid = row[0].strip()
                if not pid:
                    raise PabulibError("empty project_id", line)
                if pid in project_ids:
                    raise PabulibError(f"project {pid!r} appears twice", line)
                project_ids.add(pid)
                row[0] = pid
                projects.append(tuple(row))
                project_lines.append(line)
            else:
                vid = row[0]
                if vid in voter_ids:
                    raise PabulibError(f"voter {vid!r} appears twice", line)
                voter_ids.add(vid)
                votes.append(tuple(row))
                vote_lines.append(line)
    except csv.Error as exc:
        raise PabulibError(f"bad CSV: {exc}", reader.line_num) from None
    if len(seen_sections) < 3 or not vote_columns:
        missing = SECTIONS[len(seen_sections)] if len(seen_sections) < 3 else "VOTES header"
        raise PabulibError(f"section {missing} is missing")
    if "budget" not in meta_keys:
        raise PabulibError("META has no budget")
    pb = PabulibFile(
        meta=tuple(meta),
        project_columns=project_columns,
        projects=tuple(projects),
        vote_columns=vote_columns,
        votes=tuple(votes),
        meta_lines=tuple(meta_lines),
        project_lines=tuple(project_lines),
        vote_lines=tuple(vote_lines),
    )
    # check money and vote contents now, so a bad file fails on reading
    pb.to_election()
    return pb


def read(path: str | os.PathLike) -> PabulibFile:
    """Read a ``.pb`` file (UTF-8, optional BOM)."""
    with open(path, encoding="utf-8-sig", newline="") as fh:
        try:
            text = fh.read()
        except UnicodeDecodeError as exc:
            raise PabulibError(f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    return parse(text)


def load_election(path: str | os.PathLike, scoring: str = "borda") -> Election:
    """Shortcut: read a ``.pb`` file and build its :class:`Election`."""
    return read(path).to_election(scoring=scoring)


def dumps(pb: PabulibFile) -> str:
    """Write a :class:`PabulibFile` as ``.pb`` text (``\\n`` line ends)."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    out.write("META\n")
    writer.writerow(("key", "value"))
    writer.writerows(pb.meta)
    out.write("PROJECTS\n")
    writer.writerow(pb.project_columns)
    writer.writerows(pb.projects)
    out.write("VOTES\n")
    writer.writerow(pb.vote_columns)
    writer.writerows(pb.votes)
    return out.getvalue()


def write(pb: PabulibFile, path: str | os.PathLike) -> None:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        fh.write(dumps(pb))


def from_election(election: Election) -> PabulibFile:
    """A :class:`PabulibFile` for an :class:`Election` (for export).

    Money is written in the file's currency unit (divided by
    ``money_scale``); grouped ballots are written once per voter, with
    voter ids ``1, 2, ...``.
    """

    def money(v: int) -> str:
        return decimal_text(v, election.money_scale)

    meta = dict(election.meta)
    meta["budget"] = money(election.budget)
    meta["vote_type"] = election.vote_type
    meta["num_projects"] = str(len(election.projects))
    meta["num_votes"] = str(election.num_voters)
    for key in INT_META_KEYS:
        value = getattr(election, key)
        if value is not None:
            meta[key] = str(value)
    if election.max_sum_cost is not None:
        meta["max_sum_cost"] = money(election.max_sum_cost)
    votes_count: dict[str, int] = {}
    for b in election.ballots:
        for pid in b.projects:
            votes_count[pid] = votes_count.get(pid, 0) + b.weight
    extra_cols = []
    for p in election.projects:
        for k in p.extra:
            if k not in extra_cols and k not in ("votes",):
                extra_cols.append(k)
    columns = ("project_id", "cost", "votes", "name", "category", *extra_cols)
    projects = tuple(
        (p.id, money(p.cost), str(votes_count.get(p.id, 0)), p.name, p.category,
         *(p.extra.get(k, "") for k in extra_cols))
        for p in election.projects
    )
    with_points = any(b.points is not None for b in election.ballots)
    vote_columns = ("voter_id", "vote", "points") if with_points else ("voter_id", "vote")
    votes = []
    n = 0
    for b in election.ballots:
        for _ in range(b.weight):
            n += 1
            row = [str(n), ",".join(b.projects)]
            if with_points:
                row.append(",".join(str(x) for x in b.points or ()))
            votes.append(tuple(row))
    return PabulibFile(
        meta=tuple(meta.items()),
        project_columns=columns,
        projects=projects,
        vote_columns=vote_columns,
        votes=tuple(votes),
    )
