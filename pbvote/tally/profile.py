"""The compact form the rules compute on (internal).

An :class:`~pbvote.tally.model.Election` is compiled once into a
:class:`Profile`: projects become indices ``0..m-1``, identical ballots are
one *group* with a weight, and each group stores, per listed project, the
score it gives (1 for approval, points for cumulative, a positional score
for ordinal). Utilities are derived from that per rule:

* ``cost``      - a voter gets the project's cost from every project she lists
                  (the standard for the Method of Equal Shares);
* ``approvals`` - one unit from every listed project;
* ``points``    - the ballot's score for the project.

Everything is an ``int``; rules use ``fractions.Fraction`` (or gmpy2's
``mpq`` when installed - both exact) only where they divide.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .amounts import format_money
from .model import Election

UTILITIES = ("cost", "approvals", "points")
TIE_BREAKS = ("lexico", "equalshares")

try:  # exact rationals: gmpy2.mpq is a drop-in, several times faster
    from gmpy2 import mpq as Q  # type: ignore
except ImportError:  # pragma: no cover - depends on the environment
    from fractions import Fraction as Q  # noqa: N812


@dataclass(eq=False)
class Profile:
    """An election compiled for the rules (mutable only through ``cache``).

    ``groups[g] = (projects, scores, weight)``; ``scores`` is ``None`` when
    every listed project gets one point (approval, choose-1).
    ``supporters[c]`` lists the groups that list project ``c``; ``light[c]``
    the single-voter ones among them and ``heavy[c]`` the ``(group, weight)``
    of the others (rules count single voters at C speed). ``rivals[c]``: the
    projects that share a group of mutually exclusive projects with ``c``.
    """

    ids: list[str]
    costs: list[int]
    budget: int
    n_voters: int
    groups: list[tuple[tuple[int, ...], tuple[int, ...] | None, int]]
    weights: list[int]
    approvals: list[int]
    points: list[int]
    supporters: list[list[int]]
    light: list[list[int]]
    heavy: list[list[tuple[int, int]]]
    threshold: int | None = None
    money_scale: int = 1
    rivals: list[tuple[int, ...]] = field(default_factory=list)
    cache: dict = field(default_factory=dict)

    @property
    def m(self) -> int:
        return len(self.ids)

    def split_supporters(self) -> tuple[list[list[int]], list[list[tuple[int, int]]]]:
        """Per project: its single-voter groups, and ``(group, weight)`` of the others."""
        return self.light, self.heavy

    def money(self, amount) -> str:
        """An exact amount of the smallest unit as a sentence writes it, in the
        election's currency unit (:func:`~pbvote.tally.amounts.format_money`)."""
        return format_money(amount, self.money_scale)

    def scores(self, g: int) -> tuple[int, ...]:
        projects, scores, _ = self.groups[g]
        return scores if scores is not None else (1,) * len(projects)

    def total_utility(self, utility: str) -> list[int]:
        """Per project, the sum of its voters' utilities."""
        if utility == "points":
            return list(self.points)
        if utility == "approvals":
            return list(self.approvals)
        return [a * c for a, c in zip(self.approvals, self.costs)]

    def tie_keys(self, tie_break: str) -> list:
        """Per project, a sort key; the smallest key wins a tie.

        ``lexico``: the smallest project id in string order (pabutools'
        default). ``equalshares``: the lowest cost, then the most voters,
        then the id (the rule of equalshares.net).
        """
        if tie_break == "lexico":
            return list(self.ids)
        if tie_break == "equalshares":
            return [(self.costs[c], -self.approvals[c], self.ids[c]) for c in range(self.m)]
        raise ValueError(f"unknown tie-break {tie_break!r}")

    def tie_rank(self, tie_break: str) -> list[int]:
        """Per project, its position in the tie-break order (0 = wins all ties)."""
        keys = self.tie_keys(tie_break)
        order = sorted(range(self.m), key=keys.__getitem__)
        rank = [0] * self.m
        for r, c in enumerate(order):
            rank[c] = r
        return rank


def compile_profile(election: Election) -> Profile:
    """Compile an election (cached on the election: it is immutable)."""
    cached = election.__dict__.get("_profile")
    if cached is None:
        cached = _compile(election)
        object.__setattr__(election, "_profile", cached)
    return cached


def _compile(election: Election) -> Profile:
    ids = [p.id for p in election.projects]
    index = {pid: i for i, pid in enumerate(ids)}
    m = len(ids)
    light: list[list[int]] = [[] for _ in range(m)]
    heavy: list[list[tuple[int, int]]] = [[] for _ in range(m)]
    groups = []
    weights = []
    get = index.__getitem__
    with_points = election.vote_type != "approval" and election.vote_type != "choose-1"
    drop_zero = election.vote_type in ("cumulative", "scoring")
    points = [0] * m
    for b in election.ballots:
        projects = tuple(map(get, b.projects))
        w = b.weight
        scores = None
        if with_points:
            scores = tuple(election.ballot_scores(b))
            if drop_zero and 0 in scores:  # zero points = not supported
                kept = [(c, s) for c, s in zip(projects, scores) if s]
                projects = tuple(c for c, _ in kept)
                scores = tuple(s for _, s in kept)
            for c, s in zip(projects, scores):
                points[c] += w * s
        g = len(groups)
        groups.append((projects, scores, w))
        weights.append(w)
        if w == 1:
            for c in projects:
                light[c].append(g)
        else:
            for c in projects:
                heavy[c].append((g, w))
    supporters = [lt + [g for g, _ in hv] if hv else lt for lt, hv in zip(light, heavy)]
    approvals = [len(lt) + sum(w for _, w in hv) for lt, hv in zip(light, heavy)]
    rivals: list[set[int]] = [set() for _ in range(m)]
    for group in election.exclusive_groups:
        members = [index[pid] for pid in group]
        for c in members:
            rivals[c].update(x for x in members if x != c)
    return Profile(
        ids=ids,
        costs=[p.cost for p in election.projects],
        budget=election.budget,
        n_voters=election.num_voters,
        groups=groups,
        weights=weights,
        approvals=approvals,
        points=points if with_points else list(approvals),
        supporters=supporters,
        light=light,
        heavy=heavy,
        threshold=election.min_project_score_threshold,
        money_scale=election.money_scale,
        rivals=[tuple(sorted(r)) for r in rivals],
    )
