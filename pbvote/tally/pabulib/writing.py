"""Writing ``.pb`` text: :func:`dumps` a :class:`~.file.PabulibFile` as it was
read, and :func:`from_election` for an election (with its outcome: the rule and
the ``selected`` column that let ``--rule from-file`` recount it)."""

from __future__ import annotations

import csv
import io
import os

from ..amounts import decimal_text
from ..model import Election, Outcome, Project
from .file import GROUPS_KEY, INT_META_KEYS, SCALE_KEY, PabulibFile


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
    from ..published import file_meta  # (published reads the registry)

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
