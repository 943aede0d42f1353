"""Data the tally engine takes in and gives back: frozen dataclasses only.

Money is always an ``int`` in the smallest currency unit the election needs.
An :class:`Election` read from a pabulib file whose budget or costs carry
decimals remembers the power of ten it multiplied them by in ``money_scale``,
so that ``cost / money_scale`` is the amount written in the file.

Identical ballots are grouped: a :class:`Ballot` carries a ``weight`` (how
many voters cast exactly this ballot). Every rule treats a ballot of weight
``w`` exactly like ``w`` separate voters.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cached_property
from typing import Any

VOTE_TYPES = ("approval", "choose-1", "cumulative", "ordinal", "scoring")


class FrozenMap(Mapping):
    """A read-only, hashable mapping (keeps insertion order).

    Used for the free-form parts of the frozen dataclasses (extra project
    columns, META keys, rule parameters) so that they stay immutable and the
    dataclasses stay hashable.
    """

    __slots__ = ("_data", "_hash")

    def __init__(self, data: Mapping | Iterable[tuple[Any, Any]] = ()):
        self._data = dict(data)
        self._hash = None

    def __getitem__(self, key):
        return self._data[key]

    def __iter__(self) -> Iterator:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __hash__(self) -> int:
        if self._hash is None:
            self._hash = hash(tuple(self._data.items()))
        return self._hash

    def __eq__(self, other) -> bool:
        if isinstance(other, Mapping):
            return self._data == dict(other)
        return NotImplemented

    def __repr__(self) -> str:
        return f"FrozenMap({self._data!r})"


def _frozen(value) -> FrozenMap:
    return value if isinstance(value, FrozenMap) else FrozenMap(value or {})


@dataclass(frozen=True)
class Project:
    """A project on the ballot. ``cost`` is in the smallest currency unit."""

    id: str
    cost: int
    name: str = ""
    category: str = ""
    extra: FrozenMap = field(default_factory=FrozenMap)

    def __post_init__(self):
        if not isinstance(self.id, str) or not self.id:
            raise ValueError("a project needs a non-empty string id")
        if not isinstance(self.cost, int) or isinstance(self.cost, bool) or self.cost < 0:
            raise ValueError(f"project {self.id}: cost must be a non-negative integer")
        object.__setattr__(self, "extra", _frozen(self.extra))


@dataclass(frozen=True)
class Ballot:
    """``weight`` voters who listed ``projects`` (and gave them ``points``).

    * approval / choose-1: ``points`` is ``None``; every listed project is approved.
    * cumulative / scoring: ``points[i]`` belongs to ``projects[i]``.
    * ordinal: ``projects`` is the ranking, best first; ``points`` is
      ``None`` (a positional scoring function turns ranks into scores) or the
      points the file gave.
    """

    projects: tuple[str, ...]
    points: tuple[int, ...] | None = None
    weight: int = 1

    def __post_init__(self):
        object.__setattr__(self, "projects", tuple(self.projects))
        if self.points is not None:
            object.__setattr__(self, "points", tuple(self.points))
            if len(self.points) != len(self.projects):
                raise ValueError("a ballot needs as many points as projects")
        if len(set(self.projects)) != len(self.projects):
            raise ValueError("a ballot lists a project twice")
        if not isinstance(self.weight, int) or self.weight < 1:
            raise ValueError("a ballot weight must be a positive integer")

    @classmethod
    def _checked_elsewhere(cls, projects: tuple, points: tuple | None, weight: int) -> Ballot:
        """Build without re-validating (for readers that already checked)."""
        ballot = object.__new__(cls)
        object.__setattr__(ballot, "projects", projects)
        object.__setattr__(ballot, "points", points)
        object.__setattr__(ballot, "weight", weight)
        return ballot


# --- positional scoring functions for ordinal ballots -----------------------

ScoringFunction = Callable[[int, int], int]
"""``f(position, length)`` -> points, position 0 = first choice, ``length`` =
the longest allowed ranking (META ``max_length``, else the longest ballot)."""


def borda(position: int, length: int) -> int:
    """Borda: the first choice gets ``length`` points, the next one less, ..."""
    return length - position


def plurality(position: int, length: int) -> int:
    """Only the first choice counts (one point)."""
    return 1 if position == 0 else 0


SCORING_FUNCTIONS: dict[str, ScoringFunction] = {"borda": borda, "plurality": plurality}


@dataclass(frozen=True)
class Election:
    """One budget: its projects, the ballots (grouped) and the ballot rules.

    ``min_length``/``max_length`` bound how many projects a ballot lists,
    ``max_sum_cost`` makes an approval ballot a knapsack ballot,
    ``min_sum_points``/``max_sum_points`` bound cumulative ballots and
    ``min_project_score_threshold`` is the score a project needs to be
    eligible under ``greedy-threshold``. ``meta`` keeps every META entry of a
    pabulib file (including unknown keys) as text.

    ``exclusive_groups``: groups of project ids of which at most one can be
    funded (two projects on the same site, say). Only rules that honour them
    run on an election that has them (``greedy-exclusive``); the others refuse
    it (:class:`~pbvote.tally.TallyError`). Kept canonical: each group sorted,
    the groups sorted, no duplicates.

    ``warnings``: what a reader accepted although the file deviates from the
    format (:class:`~pbvote.tally.pabulib.PabulibWarning`, each naming its
    line); not part of equality.
    """

    budget: int
    projects: tuple[Project, ...]
    ballots: tuple[Ballot, ...]
    vote_type: str = "approval"
    money_scale: int = 1
    min_length: int | None = None
    max_length: int | None = None
    max_sum_cost: int | None = None
    min_sum_points: int | None = None
    max_sum_points: int | None = None
    min_project_score_threshold: int | None = None
    scoring: str = "borda"
    meta: FrozenMap = field(default_factory=FrozenMap)
    exclusive_groups: tuple[tuple[str, ...], ...] = ()
    warnings: tuple = field(default=(), compare=False, repr=False)

    def __post_init__(self):
        object.__setattr__(self, "projects", tuple(self.projects))
        object.__setattr__(self, "ballots", tuple(self.ballots))
        object.__setattr__(self, "meta", _frozen(self.meta))
        object.__setattr__(self, "warnings", tuple(self.warnings))
        object.__setattr__(self, "exclusive_groups", canonical_groups(self.exclusive_groups))
        if self.vote_type not in VOTE_TYPES:
            raise ValueError(f"unknown vote type {self.vote_type!r}")
        if not isinstance(self.budget, int) or self.budget < 0:
            raise ValueError("the budget must be a non-negative integer")
        if self.scoring not in SCORING_FUNCTIONS:
            raise ValueError(f"unknown scoring function {self.scoring!r}")
        ids = [p.id for p in self.projects]
        if len(set(ids)) != len(ids):
            raise ValueError("two projects share an id")
        known = set(ids)
        for ballot in self.ballots:
            for pid in ballot.projects:
                if pid not in known:
                    raise ValueError(f"a ballot lists unknown project {pid!r}")
        for group in self.exclusive_groups:
            for pid in group:
                if pid not in known:
                    raise ValueError(f"a group of mutually exclusive projects names "
                                     f"unknown project {pid!r}")

    @property
    def num_voters(self) -> int:
        return sum(b.weight for b in self.ballots)

    def project(self, project_id: str) -> Project:
        for p in self.projects:
            if p.id == project_id:
                return p
        raise KeyError(project_id)

    @cached_property
    def ranking_length(self) -> int:
        """Length positional scores count from: META max_length, else the longest ballot."""
        return self.max_length or max((len(b.projects) for b in self.ballots), default=0)

    def ballot_scores(self, ballot: Ballot) -> tuple:
        """The score a ballot gives each project it lists (1 for approval)."""
        if self.vote_type == "ordinal":
            length = self.ranking_length
            f = SCORING_FUNCTIONS[self.scoring]
            return tuple(f(i, length) for i in range(len(ballot.projects)))
        if ballot.points is not None and self.vote_type in ("cumulative", "scoring"):
            return ballot.points
        return (1,) * len(ballot.projects)


def canonical_groups(groups: Iterable[Iterable[str]]) -> tuple[tuple[str, ...], ...]:
    """Groups of mutually exclusive projects in a canonical form: each group's
    ids sorted and distinct, the groups sorted and distinct. A group needs at
    least two projects (``ValueError`` otherwise)."""
    out = set()
    for group in groups:
        if isinstance(group, str):
            raise ValueError("a group of mutually exclusive projects is a collection of ids, "
                             "not one string")
        ids = tuple(sorted(set(group)))
        if len(ids) < 2:
            raise ValueError(f"a group of mutually exclusive projects needs at least two "
                             f"projects: {list(ids)}")
        if not all(isinstance(i, str) and i for i in ids):
            raise ValueError("project ids in a group are non-empty strings")
        out.add(ids)
    return tuple(sorted(out))


def group_ballots(ballots: Iterable[Ballot]) -> tuple[Ballot, ...]:
    """Merge identical ballots into one with the summed weight.

    The result is in a canonical order (sorted by projects, then points), so
    grouping makes every rule independent of the order ballots came in.
    """
    weights: dict[tuple, int] = {}
    for b in ballots:
        key = (b.projects, b.points)
        weights[key] = weights.get(key, 0) + b.weight
    # every key comes from a checked Ballot and a sum of positive weights is one: not checked again
    return tuple(
        Ballot._checked_elsewhere(projects, points, w)
        for (projects, points), w in sorted(
            weights.items(), key=lambda kv: (kv[0][0], kv[0][1] or ())
        )
    )


# --- outcome ---------------------------------------------------------------


@dataclass(frozen=True)
class ProjectResult:
    """Why one project was or was not funded.

    ``details`` is structured data for the web app (keys depend on the
    rule, e.g. ``rank``, ``money_left``, ``funded_ahead`` for greedy,
    ``round`` and ``effective_votes`` for MES, ``reserve`` for a project
    funded from a reserve, ``excluded_by`` for one left out because another
    of its group was funded); ``reason`` is the same in one plain-English
    sentence.
    """

    id: str
    cost: int
    score: Any
    selected: bool
    reason: str
    details: FrozenMap = field(default_factory=FrozenMap)

    def __post_init__(self):
        object.__setattr__(self, "details", _frozen(self.details))


@dataclass(frozen=True)
class Satisfaction:
    """How many voters got at least one project they voted for.

    ``histogram[k]`` = number of voters with exactly ``k`` funded projects
    on their ballot (as ``(k, count)`` pairs, ``k`` ascending).
    """

    voters: int
    voters_with_funded_project: int
    histogram: tuple[tuple[int, int], ...]

    @property
    def share(self) -> Fraction:
        if not self.voters:
            return Fraction(0)
        return Fraction(self.voters_with_funded_project, self.voters)


@dataclass(frozen=True)
class Outcome:
    """The result of a rule: funded projects in selection order and why.

    ``selected`` lists every funded project; ``reserve`` the ones among them
    the rule funds outside the budget, from a reserve (``greedy-custom``:
    pabulib's ``selected`` value 2), so ``total_cost`` may exceed ``budget``
    by what the reserve pays (:attr:`reserve_used`). ``notes`` are sentences
    about the count as a whole (``greedy-exclusive`` on an election without
    groups counts as greedy, and says so).
    """

    rule: str
    parameters: FrozenMap
    budget: int
    total_cost: int
    selected: tuple[str, ...]
    projects: tuple[ProjectResult, ...]
    satisfaction: Satisfaction
    money_scale: int = 1
    seconds: float = 0.0
    reserve: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    def __post_init__(self):
        object.__setattr__(self, "parameters", _frozen(self.parameters))
        object.__setattr__(self, "reserve", tuple(self.reserve))
        object.__setattr__(self, "notes", tuple(self.notes))

    @property
    def selected_set(self) -> frozenset[str]:
        return frozenset(self.selected)

    @property
    def reserve_used(self) -> int:
        """What the reserve pays: the funded projects' cost beyond the budget (0 if none)."""
        return max(0, self.total_cost - self.budget) if self.reserve else 0
