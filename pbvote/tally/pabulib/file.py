"""The content of a ``.pb`` file as text (:class:`PabulibFile`), and what reading
it can report: :class:`PabulibError` (the file cannot be read) and
:class:`PabulibWarning` (read, although it deviates from the format)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..amounts import AmountError, parse_whole
from ..model import Election

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
DECIMAL_COMMA = re.compile(r"\s*[0-9]+,[0-9]+\s*")


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
            # a fresh election: set its warnings in place (replace() would check it again)
            object.__setattr__(election, "warnings", self.warnings)
            cache[scoring] = election
        return cache[scoring]

    def _build(self, scoring: str | None) -> tuple[Election, list[PabulibWarning]]:
        from .building import Builder  # (building reads the file's fields)

        try:
            return Builder(self).election(scoring)
        except PabulibError:
            raise
        except ValueError as exc:  # the model's own checks: a file error too
            raise PabulibError(str(exc)) from None


def _selected_value(text: str) -> int:
    text = text.strip()
    if text.isdigit() and text.isascii():
        return int(text)
    return 0


def line_of(lines: tuple[int, ...], n: int) -> int | None:
    return lines[n] if n < len(lines) else None


def meta_line(pb: PabulibFile, key: str) -> int | None:
    for (k, _), line in zip(pb.meta, pb.meta_lines):
        if k == key:
            return line
    return None


def shown(text: str) -> str:
    """A field as an error message quotes it (long ones cut)."""
    text = text.strip()
    return repr(text if len(text) <= 40 else text[:37] + "...")


def whole(text: str, what: str, line: int | None) -> int:
    try:
        return parse_whole(text)
    except AmountError as exc:
        raise PabulibError(f"{what} {exc}: {shown(text)}", line) from None


