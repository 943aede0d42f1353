"""Reading ``.pb`` text: the sections, the CSV (strict first; tolerant, as the
reference library reads it, only for a file that needs it) and the warnings
about its form (half-quoted fields, trailing separators, short rows, voter ids
used twice)."""

from __future__ import annotations

import csv
import io
import os
import re

from ..model import Election
from .file import SECTIONS, PabulibError, PabulibFile, PabulibWarning, shown


class _Retry(Exception):
    """The strict CSV reading failed: read again, tolerantly (internal)."""



def parse(text: str) -> PabulibFile:
    """Parse the text of a ``.pb`` file (see the module docstring)."""
    if text.startswith("\ufeff"):
        text = text[1:]
    try:
        return _parse(text, strict=True)
    except _Retry:  # a half-quoted field, or worse: read it as the reference library does
        return _parse(text, strict=False)


class _Tolerant:
    """Rows as Python's ``csv`` reader reads them without ``strict`` (as the
    reference library does), checking each row that has a quote: a field that
    starts with a quote but goes on after the closing quote is read that way,
    with a warning; a quote never closed is an error at the line it opens.
    Iterates like a ``csv.reader`` (``line_num`` is the last line of a row)."""

    def __init__(self, text: str, warnings: list[PabulibWarning]):
        self.lines = io.StringIO(text, newline="").readlines()
        self.warnings = warnings
        self.line_num = 0

    def __iter__(self):
        lines = self.lines
        reader = csv.reader(lines, delimiter=";")
        start = 0
        try:
            for row in reader:
                end = self.line_num = reader.line_num
                raw = lines[start:end]
                first, start = start + 1, end
                if any('"' in part for part in raw):
                    self.check(raw, first, end)
                yield row
        except csv.Error as exc:
            raise PabulibError(f"bad CSV: {exc}", reader.line_num) from None

    def check(self, raw: list[str], first: int, end: int) -> None:
        try:
            list(csv.reader(raw, delimiter=";", strict=True))
        except csv.Error as exc:
            if len(raw) > 1 or "expected after" not in str(exc):
                raise PabulibError(f"bad CSV: a quoted field is not closed ({exc})",
                                   first) from None
            field = _half_quoted(raw[0])
            self.warnings.append(PabulibWarning(
                end, "half-quoted-field",
                f"the field {shown(field)} starts with a quote but is not quoted as a "
                f"whole; read as {shown(_loose(field))}, as Python's csv reader (and the "
                "reference library) reads it"))


def _half_quoted(line: str) -> str:
    """The first field of ``line`` that starts with a quote and goes on after it closes."""
    match = re.search(r'(?:^|;)("(?:[^"]|"")*"[^;"\r\n][^;\r\n]*)', line)
    return match.group(1) if match else line.strip()


def _loose(field: str) -> str:
    """How the non-strict reader reads a field (for the warning)."""
    return next(csv.reader([field], delimiter=";"), [""])[0]


def _parse(text: str, strict: bool) -> PabulibFile:
    warnings: list[PabulibWarning] = []
    if strict:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=";", strict=True)
    else:
        reader = _Tolerant(text, warnings)
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
    try:
        for row in reader:
            line = reader.line_num
            if not row or (len(row) == 1 and not row[0].strip()):
                continue
            if ((len(row) == 1 or not row[-1].strip()) and row[0].strip().upper() in SECTIONS
                    and not any(f.strip() for f in row[1:])):
                name = row[0].strip().upper()
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
    except csv.Error:  # strict reading only (the tolerant reader raises PabulibError)
        raise _Retry from None
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
    object.__setattr__(election, "warnings", every)  # fresh: no need to check it again
    pb.__dict__["_elections"] = {None: election}
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


