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

**Real files deviate from the format.** What the reference library
(pabutools) reads, this reader reads too, the same way, and records a
:class:`PabulibWarning` naming the line (``PabulibFile.warnings``, also on
the :class:`Election`): a vote listing a project twice counts it once; a
field that starts with a quote but is not quoted as a whole
(``"Odkupmy" i my - ...``) is read as Python's ``csv`` reader reads it; a
trailing ``;``, a row missing optional trailing fields, an empty item in a
vote list, a decimal comma in an amount, a voter id used twice, META counts
that do not match the file. Anything it cannot read unambiguously is a
:class:`PabulibError` naming the line - never a traceback.

pbvote's own META keys (the format has no field for them; other readers
ignore them): ``pbvote_rule`` and ``pbvote_parameters`` (the rule and the
parameters that reproduce a published outcome, :mod:`.published`),
``pbvote_exclusive_groups`` (groups of mutually exclusive projects,
``a,b;c,d,e``) and ``pbvote_money_scale`` (the power of ten money is
counted in, when the written amounts do not show it: 100 for cents).

Parsing is one pass over the file with the standard ``csv`` module plus a
dictionary of distinct ballots, so it is linear in the file size; the
tolerant reading of a half-quoted field is a second pass, only for a file
that has one.
"""

from __future__ import annotations

import csv
import io
import os
import re
from dataclasses import dataclass, replace

from .amounts import AmountError, decimal_text, parse_amount, parse_whole
from .model import (
    SCORING_FUNCTIONS,
    VOTE_TYPES,
    Ballot,
    Election,
    FrozenMap,
    Outcome,
    Project,
    canonical_groups,
)

SECTIONS = ("META", "PROJECTS", "VOTES")
INT_META_KEYS = (
    "min_length",
    "max_length",
    "min_sum_points",
    "max_sum_points",
    "min_project_score_threshold",
)
MONEY_META_KEYS = ("budget", "max_sum_cost")
GROUPS_KEY = "pbvote_exclusive_groups"
SCALE_KEY = "pbvote_money_scale"
_DECIMAL_COMMA = re.compile(r"\s*[0-9]+,[0-9]+\s*")


class PabulibError(ValueError):
    """A malformed ``.pb`` file. ``line`` is 1-based (``None`` if global)."""

    def __init__(self, message: str, line: int | None = None):
        self.line = line
        self.problem = message
        super().__init__(f"line {line}: {message}" if line else message)


@dataclass(frozen=True)
class PabulibWarning:
    """Something the reader accepted although the file deviates from the format.

    ``line`` is 1-based (``None`` for the file as a whole), ``kind`` a stable
    key (``"vote-lists-project-twice"``, ``"half-quoted-field"``, ...: see
    :data:`WARNING_KINDS`), ``message`` one plain sentence saying what was
    read and how.
    """

    line: int | None
    kind: str
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}" if self.line else self.message

    def as_dict(self) -> dict:
        return {"line": self.line, "kind": self.kind, "message": self.message}


WARNING_KINDS = {
    "vote-lists-project-twice": "a vote lists a project more than once: counted once",
    "half-quoted-field": "a field starts with a quote but is not quoted as a whole: read as "
                         "Python's csv reader (and the reference library) reads it",
    "trailing-separator": "a ';' after the last column: ignored",
    "short-row": "a row without its last optional fields: read as empty",
    "empty-vote-item": "an empty item in a vote list (',,' or a trailing ','): ignored",
    "decimal-comma": "an amount written with a decimal comma: read as a decimal point, as the "
                     "reference library does",
    "duplicate-voter": "a voter id used twice: both ballots are counted, as the reference "
                       "library does",
    "count-mismatch": "META num_projects or num_votes differs from the file: the file counts",
    "selected-value": "a selected value that is not a whole number: read as 0",
    "meta-value": "a META value pbvote cannot use (scoring_fn, pbvote_money_scale): ignored",
}


class _Retry(Exception):
    """The strict CSV reading failed: read again, tolerantly (internal)."""


@dataclass(frozen=True)
class PabulibFile:
    """The content of a ``.pb`` file, field by field, as text."""

    meta: tuple[tuple[str, str], ...]
    project_columns: tuple[str, ...]
    projects: tuple[tuple[str, ...], ...]
    vote_columns: tuple[str, ...]
    votes: tuple[tuple[str, ...], ...]
    # 1-based line numbers of the rows above, and what the reader accepted
    # although the file deviates from the format (not part of equality)
    meta_lines: tuple[int, ...] = ()
    project_lines: tuple[int, ...] = ()
    vote_lines: tuple[int, ...] = ()
    warnings: tuple[PabulibWarning, ...] = ()

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

    def selected_values(self) -> dict[str, int] | None:
        """Project id -> the file's ``selected`` value (``None`` without the column).

        pabulib's meaning: 1 funded by the file's rule, 0 not funded, 2 or 3
        funded outside the rule (a reserve, an award, extra funds; the file's
        ``comment`` says which). An empty value is 0; a value that is not a
        whole number is 0 too, with a warning at reading.
        """
        col = self.column("selected")
        if col is None:
            return None
        return {pid: _selected_value(v) for pid, v in col.items()}

    def selected(self) -> tuple[str, ...] | None:
        """Ids of the projects the file marks as funded by its rule (``selected`` 1)."""
        values = self.selected_values()
        if values is None:
            return None
        return tuple(pid for pid, v in values.items() if v == 1)

    def funded_outside(self) -> dict[str, int]:
        """Projects funded outside the rule: id -> the file's value (2, 3, ...)."""
        return {pid: v for pid, v in (self.selected_values() or {}).items() if v >= 2}

    def to_election(self, scoring: str | None = None) -> Election:
        """Build the typed election; decimal money becomes integers exactly.

        ``scoring`` (ordinal ballots): ``borda`` or ``plurality``; by default
        META ``scoring_fn``, else Borda. The election carries the file's
        :attr:`warnings`.
        """
        cache = self.__dict__.setdefault("_elections", {})
        if scoring not in cache:
            election, _ = self._build(scoring)
            cache[scoring] = replace(election, warnings=self.warnings)
        return cache[scoring]

    def _build(self, scoring: str | None) -> tuple[Election, list[PabulibWarning]]:
        try:
            return _Builder(self).election(scoring)
        except PabulibError:
            raise
        except ValueError as exc:  # the model's own checks: a file error too
            raise PabulibError(str(exc)) from None


def _selected_value(text: str) -> int:
    text = text.strip()
    if text.isdigit() and text.isascii():
        return int(text)
    return 0


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


def _whole(text: str, what: str, line: int | None) -> int:
    try:
        return parse_whole(text)
    except AmountError as exc:
        raise PabulibError(f"{what} {exc}: {_shown(text)}", line) from None


class _Builder:
    """A :class:`PabulibFile` made into an :class:`Election`, with the warnings
    the building finds (money, votes, selected values, pbvote's META keys)."""

    def __init__(self, pb: PabulibFile):
        self.pb = pb
        self.meta = pb.meta_dict
        self.warnings: list[PabulibWarning] = []

    def warn(self, line, kind, message) -> None:
        self.warnings.append(PabulibWarning(line, kind, message))

    def amount(self, text: str, what: str, line: int | None) -> tuple[int, int]:
        try:
            return parse_amount(text)
        except AmountError as exc:
            if _DECIMAL_COMMA.fullmatch(text):
                value = parse_amount(text.replace(",", "."))
                self.warn(line, "decimal-comma", f"{what} {_shown(text)} has a decimal comma; "
                          f"read as {text.strip().replace(',', '.')}, as the reference library "
                          "reads it")
                return value
            raise PabulibError(f"{what} {exc}: {_shown(text)}", line) from None

    def election(self, scoring: str | None) -> tuple[Election, list[PabulibWarning]]:
        pb, meta = self.pb, self.meta
        vote_type = meta.get("vote_type", "approval").strip()
        if vote_type not in VOTE_TYPES:
            raise PabulibError(f"unknown vote_type {vote_type!r}", _meta_line(pb, "vote_type"))
        if not meta.get("budget", "").strip():
            raise PabulibError("META has no budget", _meta_line(pb, "budget"))
        cols = pb.project_columns
        i_cost = cols.index("cost")
        # every amount as (units, decimal places); then one scale for all of them
        money = {k: self.amount(meta[k], f"META {k}", _meta_line(pb, k))
                 for k in MONEY_META_KEYS if meta.get(k, "").strip()}
        costs = [
            self.amount(row[i_cost], f"cost of project {row[0]!r}", _line(pb.project_lines, n))
            for n, row in enumerate(pb.projects)
        ]
        places = max((p for _, p in [*money.values(), *costs]), default=0)
        places = self.scale_places(places)
        scale = 10**places

        def scaled(amount: tuple[int, int]) -> int:
            return amount[0] * 10 ** (places - amount[1])

        ints = {}
        for k in INT_META_KEYS:
            if meta.get(k, "").strip():
                ints[k] = _whole(meta[k], f"META {k}", _meta_line(pb, k))
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
            for row, cost in zip(pb.projects, costs)
        )
        ids = {p.id for p in projects}
        ballots = self.ballots(vote_type, ids)
        self.check_selected_column()
        self.check_counts()
        election = Election(
            budget=scaled(money["budget"]),
            projects=projects,
            ballots=ballots,
            vote_type=vote_type,
            money_scale=scale,
            max_sum_cost=scaled(money["max_sum_cost"]) if "max_sum_cost" in money else None,
            scoring=scoring or self.scoring(),
            meta=FrozenMap(pb.meta),
            exclusive_groups=self.groups(ids),
            **ints,
        )
        return election, self.warnings

    def scale_places(self, places: int) -> int:
        """The decimal places money is counted in: the file's, or META pbvote_money_scale's."""
        text = self.meta.get(SCALE_KEY, "").strip()
        if not text:
            return places
        wanted = len(text) - 1
        if text != "1" + "0" * wanted or wanted > 9:
            self.warn(_meta_line(self.pb, SCALE_KEY), "meta-value",
                      f"{SCALE_KEY} {_shown(text)} is not a power of ten up to 10**9; ignored")
            return places
        if wanted < places:
            self.warn(_meta_line(self.pb, SCALE_KEY), "meta-value",
                      f"{SCALE_KEY} {text} is coarser than the amounts written (10**{places}); "
                      "ignored")
            return places
        return wanted

    def scoring(self) -> str:
        text = self.meta.get("scoring_fn", "").strip().lower()
        if not text:
            return "borda"
        if text in SCORING_FUNCTIONS:
            return text
        self.warn(_meta_line(self.pb, "scoring_fn"), "meta-value",
                  f"scoring_fn {_shown(text)} is not one pbvote knows "
                  f"({', '.join(SCORING_FUNCTIONS)}); Borda is used")
        return "borda"

    def groups(self, ids: set[str]) -> tuple[tuple[str, ...], ...]:
        text = self.meta.get(GROUPS_KEY, "").strip()
        if not text:
            return ()
        line = _meta_line(self.pb, GROUPS_KEY)
        groups = []
        for part in text.split(";"):
            group = [pid.strip() for pid in part.split(",") if pid.strip()]
            for pid in group:
                if pid not in ids:
                    raise PabulibError(f"{GROUPS_KEY} names unknown project {pid!r}", line)
            if len(set(group)) < 2:
                raise PabulibError(f"{GROUPS_KEY}: a group needs at least two projects, "
                                   f"not {_shown(part)}", line)
            groups.append(group)
        return canonical_groups(groups)

    def check_selected_column(self) -> None:
        pb = self.pb
        if "selected" not in pb.project_columns:
            return
        i = pb.project_columns.index("selected")
        for n, row in enumerate(pb.projects):
            text = row[i].strip()
            if text and not (text.isdigit() and text.isascii()):
                self.warn(_line(pb.project_lines, n), "selected-value",
                          f"project {row[0]!r} has selected {_shown(text)}, not a whole number; "
                          "read as 0 (not funded)")

    def check_counts(self) -> None:
        pb = self.pb
        for key, count in (("num_projects", len(pb.projects)), ("num_votes", len(pb.votes))):
            text = self.meta.get(key, "").strip()
            if text and text.isdigit() and text.isascii() and int(text) != count:
                self.warn(_meta_line(pb, key), "count-mismatch",
                          f"META {key} is {int(text):,} but the file has {count:,}; "
                          f"the file's {count:,} are read")

    def ballots(self, vote_type: str, known: set[str]) -> tuple[Ballot, ...]:
        pb = self.pb
        i_vote = pb.vote_columns.index("vote")
        i_points = pb.vote_columns.index("points") if "points" in pb.vote_columns else None
        if vote_type in ("cumulative", "scoring") and i_points is None:
            raise PabulibError(f"{vote_type} votes need a points column")
        # one pass: count distinct (vote, points) texts, then check each once
        counts: dict[tuple[str, str], list[int]] = {}
        for n, row in enumerate(pb.votes):
            key = (row[i_vote], row[i_points] if i_points is not None else "")
            entry = counts.get(key)
            if entry is None:
                counts[key] = [1, n]
            else:
                entry[0] += 1
        use_points = vote_type in ("cumulative", "scoring", "ordinal") and i_points is not None
        unordered = vote_type in ("approval", "choose-1")
        groups: dict[tuple, int] = {}
        quirks: dict[tuple[str, str], list[tuple[str, str]]] = {}
        for key, (weight, n) in counts.items():
            vote, points = key
            line = _line(pb.vote_lines, n)
            ids = [v.strip() for v in vote.split(",")] if vote.strip() else []
            pts = None
            if use_points and (points.strip() or ids):
                raw = points.split(",") if points.strip() else []
                if len(raw) != len(ids):
                    raise PabulibError(
                        f"vote lists {len(ids)} projects but {len(raw)} points", line
                    )
                pts = [_whole(p, "points", line) for p in raw]
            if "" in ids:
                if pts is not None:
                    raise PabulibError("vote lists an empty project id (',,' or a trailing ',') "
                                       "next to points", line)
                ids = [pid for pid in ids if pid]
                quirks.setdefault(key, []).append((
                    "empty-vote-item", f"the vote {_shown(vote)} has an empty item (',,' or a "
                    "trailing ','); ignored, as the reference library does"))
            for pid in ids:
                if pid not in known:
                    raise PabulibError(f"vote lists unknown project {pid!r}", line)
            if len(set(ids)) != len(ids):
                ids, pts, message = _counted_once(ids, pts)
                quirks.setdefault(key, []).append(("vote-lists-project-twice", message))
            if unordered:
                ids = sorted(ids)
            bkey = (tuple(ids), tuple(pts) if pts is not None else None)
            groups[bkey] = groups.get(bkey, 0) + weight
        if quirks:  # a second pass, only for files that need it: warn on every such line
            for n, row in enumerate(pb.votes):
                key = (row[i_vote], row[i_points] if i_points is not None else "")
                for kind, message in quirks.get(key, ()):
                    self.warn(_line(pb.vote_lines, n), kind, message)
        # ballots in order of first appearance; grouping is exact, so no rule
        # depends on this order
        return tuple(Ballot._checked_elsewhere(ids, pts, w) for (ids, pts), w in groups.items())


def _counted_once(ids: list[str], pts: list[int] | None) -> tuple[list[str], list | None, str]:
    """A vote that lists a project twice, as the reference library reads it:
    each project once, in the place it first appears; with points, the points
    of its last mention (a later entry overwrites an earlier one)."""
    seen: dict[str, int | None] = {}
    for i, pid in enumerate(ids):
        seen[pid] = pts[i] if pts is not None else None
    twice = sorted({pid for pid in ids if ids.count(pid) > 1})
    names = ", ".join(twice)
    message = (f"the vote lists project{'s' if len(twice) > 1 else ''} {names} more than "
               "once; counted once")
    if pts is not None:
        message += " (with the points of its last mention, as the reference library reads it)"
    return list(seen), (list(seen.values()) if pts is not None else None), message


def parse(text: str) -> PabulibFile:
    """Parse the text of a ``.pb`` file (see the module docstring)."""
    if text.startswith("\ufeff"):
        text = text[1:]
    try:
        return _parse(text, strict=True)
    except _Retry:  # a half-quoted field, or worse: read it as the reference library does
        return _parse(text, strict=False)


def _strict_records(text: str):
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=";", strict=True)
    try:
        for row in reader:
            yield reader.line_num, row
    except csv.Error:
        raise _Retry from None


def _tolerant_records(text: str, warnings: list[PabulibWarning]):
    """Rows as Python's ``csv`` reader reads them without ``strict`` (as the
    reference library does), checking each row that has a quote: a field that
    starts with a quote but goes on after the closing quote is read that way,
    with a warning; a quote never closed is an error at the line it opens."""
    lines = io.StringIO(text, newline="").readlines()
    reader = csv.reader(lines, delimiter=";")
    start = 0
    for row in reader:
        end = reader.line_num
        raw = lines[start:end]
        first, start = start + 1, end
        if any('"' in part for part in raw):
            try:
                list(csv.reader(raw, delimiter=";", strict=True))
            except csv.Error as exc:
                if len(raw) > 1 or "expected after" not in str(exc):
                    raise PabulibError(f"bad CSV: a quoted field is not closed ({exc})",
                                       first) from None
                field = _half_quoted(raw[0])
                warnings.append(PabulibWarning(
                    end, "half-quoted-field",
                    f"the field {_shown(field)} starts with a quote but is not quoted as a "
                    f"whole; read as {_shown(_loose(field))}, as Python's csv reader (and the "
                    "reference library) reads it"))
        yield end, row


def _half_quoted(line: str) -> str:
    """The first field of ``line`` that starts with a quote and goes on after it closes."""
    match = re.search(r'(?:^|;)("(?:[^"]|"")*"[^;"\r\n][^;\r\n]*)', line)
    return match.group(1) if match else line.strip()


def _loose(field: str) -> str:
    """How the non-strict reader reads a field (for the warning)."""
    return next(csv.reader([field], delimiter=";"), [""])[0]


def _parse(text: str, strict: bool) -> PabulibFile:
    warnings: list[PabulibWarning] = []
    records = _strict_records(text) if strict else _tolerant_records(text, warnings)
    section = None
    header: list[str] | None = None
    required = 0  # fields a row of this section must have (the required columns)
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
    voter_lines: dict[str, int] = {}
    seen_sections: list[str] = []
    for line, row in records:
        if not row or (len(row) == 1 and not row[0].strip()):
            continue
        name = row[0].strip().upper()
        if name in SECTIONS and (len(row) == 1 or not any(f.strip() for f in row[1:])):
            if len(row) > 1:
                warnings.append(PabulibWarning(line, "trailing-separator",
                                               f"a ';' after the section name {name}; ignored"))
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
            while len(header) > 1 and not header[-1]:
                header.pop()
                warnings.append(PabulibWarning(line, "trailing-separator",
                                               f"a ';' after the last column of the {section} "
                                               "header; ignored"))
            if section == "META":
                if header[:2] != ["key", "value"]:
                    raise PabulibError("the META header must be 'key;value'", line)
                required = 2
            elif section == "PROJECTS":
                if header[:1] != ["project_id"] or "cost" not in header:
                    raise PabulibError("the PROJECTS header must start with project_id and have a cost column", line)
                project_columns = tuple(header)
                required = header.index("cost") + 1
            else:
                if header[:1] != ["voter_id"] or "vote" not in header:
                    raise PabulibError("the VOTES header must start with voter_id and have a vote column", line)
                vote_columns = tuple(header)
                required = max(header.index(c) for c in ("vote", "points") if c in header) + 1
            if len(set(header)) != len(header):
                raise PabulibError("a column name appears twice", line)
            continue
        if len(row) != len(header):
            row = _fit(row, header, required, section, line, warnings)
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
            first = voter_lines.setdefault(vid, line)
            if first != line:
                warnings.append(PabulibWarning(
                    line, "duplicate-voter",
                    f"voter {vid!r} appears twice (first on line {first}); both ballots are "
                    "counted, as the reference library does"))
            votes.append(tuple(row))
            vote_lines.append(line)
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
        warnings=tuple(warnings),
    )
    # check money and vote contents now, so a bad file fails on reading
    election, more = pb._build(None)
    every = tuple(sorted(warnings + more, key=lambda w: (w.line or 0)))
    object.__setattr__(pb, "warnings", every)
    pb.__dict__["_elections"] = {None: replace(election, warnings=every)}
    return pb


def _fit(row: list[str], header: list[str], required: int, section: str, line: int,
         warnings: list[PabulibWarning]) -> list[str]:
    """A row with a field count other than the header's: a trailing ``;`` is
    dropped, missing optional trailing fields read as empty (both with a
    warning); anything else is an error."""
    n, h = len(row), len(header)
    if n > h and not any(f.strip() for f in row[h:]):
        warnings.append(PabulibWarning(line, "trailing-separator",
                                       f"{n - h} empty field(s) after the last column; ignored"))
        return row[:h]
    if required <= n < h:
        missing = ", ".join(header[n:])
        warnings.append(PabulibWarning(line, "short-row",
                                       f"{n} fields where the {section} header has {h}; "
                                       f"the missing {missing} read as empty"))
        return row + [""] * (h - n)
    raise PabulibError(f"expected {h} fields, found {n}", line)


def read(path: str | os.PathLike) -> PabulibFile:
    """Read a ``.pb`` file (UTF-8, optional BOM); its warnings are on the result."""
    with open(path, encoding="utf-8-sig", newline="") as fh:
        try:
            text = fh.read()
        except UnicodeDecodeError as exc:
            raise PabulibError(f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    return parse(text)


def load_election(path: str | os.PathLike, scoring: str | None = None) -> Election:
    """Shortcut: read a ``.pb`` file and build its :class:`Election` (with the
    file's warnings in ``Election.warnings``)."""
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


def groups_text(groups) -> str:
    """Groups of mutually exclusive projects as META ``pbvote_exclusive_groups`` writes them."""
    for group in groups:
        for pid in group:
            if "," in pid or ";" in pid:
                raise ValueError(f"project id {pid!r} cannot be written in a group "
                                 "(it has ',' or ';')")
    return ";".join(",".join(group) for group in groups)


def from_election(election: Election, outcome: Outcome | None = None) -> PabulibFile:
    """A :class:`PabulibFile` for an :class:`Election` (for export).

    Money is written in the file's currency unit (divided by
    ``money_scale``, which META ``pbvote_money_scale`` keeps when it is not
    1); grouped ballots are written once per voter, with voter ids ``1, 2,
    ...``; groups of mutually exclusive projects go in META
    ``pbvote_exclusive_groups``. With an ``outcome``, the file records the
    rule that gave it - META ``rule`` (pabulib's name where it has one, else
    ``unknown``), ``pbvote_rule`` and ``pbvote_parameters`` (what ``pbvote
    tally FILE --rule from-file`` runs) - and its result in a ``selected``
    column (1 funded by the rule, 2 funded from its reserve, 0 not funded).
    """
    from .published import file_meta  # (published reads the registry)

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
    if election.vote_type == "ordinal" and election.scoring != "borda":
        meta["scoring_fn"] = election.scoring
    meta.pop(SCALE_KEY, None)
    if election.money_scale != 1:
        meta[SCALE_KEY] = str(election.money_scale)
    meta.pop(GROUPS_KEY, None)
    if election.exclusive_groups:
        meta[GROUPS_KEY] = groups_text(election.exclusive_groups)
    if outcome is not None:
        meta.update(file_meta(outcome))
    votes_count: dict[str, int] = {}
    for b in election.ballots:
        for pid in b.projects:
            votes_count[pid] = votes_count.get(pid, 0) + b.weight
    extra_cols = []
    for p in election.projects:
        for k in p.extra:
            if k not in extra_cols and k not in ("votes",):
                extra_cols.append(k)
    if outcome is not None and "selected" not in extra_cols:
        extra_cols.append("selected")
    columns = ("project_id", "cost", "votes", "name", "category", *extra_cols)
    marks = {}
    if outcome is not None:
        marks = {pid: "1" for pid in outcome.selected}
        marks.update({pid: "2" for pid in outcome.reserve})

    def extra(p: Project, k: str) -> str:
        if k == "selected" and outcome is not None:
            return marks.get(p.id, "0")
        return p.extra.get(k, "")

    projects = tuple(
        (p.id, money(p.cost), str(votes_count.get(p.id, 0)), p.name, p.category,
         *(extra(p, k) for k in extra_cols))
        for p in election.projects
    )
    with_points = (election.vote_type in ("cumulative", "scoring")
                   or any(b.points is not None for b in election.ballots))
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
