"""A :class:`~.file.PabulibFile` made into an :class:`~pbvote.tally.Election`:
money scaled to exact integers, ballots grouped, pbvote's META keys read, and
the warnings this finds (decimal commas, votes listing a project twice, empty
vote items, selected values, META counts)."""

from __future__ import annotations

from ..amounts import AmountError, parse_amount
from ..model import (
    SCORING_FUNCTIONS,
    VOTE_TYPES,
    Ballot,
    Election,
    FrozenMap,
    Project,
    canonical_groups,
)
from .file import (  # noqa: I001 (constants first)
    DECIMAL_COMMA,
    GROUPS_KEY,
    INT_META_KEYS,
    MONEY_META_KEYS,
    SCALE_KEY,
    PabulibError,
    PabulibFile,
    PabulibWarning,
    line_of,
    meta_line,
    shown,
    whole,
)


class Builder:
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
            if DECIMAL_COMMA.fullmatch(text):
                value = parse_amount(text.replace(",", "."))
                self.warn(line, "decimal-comma", f"{what} {shown(text)} has a decimal comma; "
                          f"read as {text.strip().replace(',', '.')}, as the reference library "
                          "reads it")
                return value
            raise PabulibError(f"{what} {exc}: {shown(text)}", line) from None

    def election(self, scoring: str | None) -> tuple[Election, list[PabulibWarning]]:
        pb, meta = self.pb, self.meta
        vote_type = meta.get("vote_type", "approval").strip()
        if vote_type not in VOTE_TYPES:
            raise PabulibError(f"unknown vote_type {vote_type!r}", meta_line(pb, "vote_type"))
        if not meta.get("budget", "").strip():
            raise PabulibError("META has no budget", meta_line(pb, "budget"))
        cols = pb.project_columns
        i_cost = cols.index("cost")
        # every amount as (units, decimal places); then one scale for all of them
        money = {k: self.amount(meta[k], f"META {k}", meta_line(pb, k))
                 for k in MONEY_META_KEYS if meta.get(k, "").strip()}
        costs = [
            self.amount(row[i_cost], f"cost of project {row[0]!r}", line_of(pb.project_lines, n))
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
                ints[k] = whole(meta[k], f"META {k}", meta_line(pb, k))
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
            self.warn(meta_line(self.pb, SCALE_KEY), "meta-value",
                      f"{SCALE_KEY} {shown(text)} is not a power of ten up to 10**9; ignored")
            return places
        if wanted < places:
            self.warn(meta_line(self.pb, SCALE_KEY), "meta-value",
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
        self.warn(meta_line(self.pb, "scoring_fn"), "meta-value",
                  f"scoring_fn {shown(text)} is not one pbvote knows "
                  f"({', '.join(SCORING_FUNCTIONS)}); Borda is used")
        return "borda"

    def groups(self, ids: set[str]) -> tuple[tuple[str, ...], ...]:
        text = self.meta.get(GROUPS_KEY, "").strip()
        if not text:
            return ()
        line = meta_line(self.pb, GROUPS_KEY)
        groups = []
        for part in text.split(";"):
            group = [pid.strip() for pid in part.split(",") if pid.strip()]
            for pid in group:
                if pid not in ids:
                    raise PabulibError(f"{GROUPS_KEY} names unknown project {pid!r}", line)
            if len(set(group)) < 2:
                raise PabulibError(f"{GROUPS_KEY}: a group needs at least two projects, "
                                   f"not {shown(part)}", line)
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
                self.warn(line_of(pb.project_lines, n), "selected-value",
                          f"project {row[0]!r} has selected {shown(text)}, not a whole number; "
                          "read as 0 (not funded)")

    def check_counts(self) -> None:
        pb = self.pb
        for key, count in (("num_projects", len(pb.projects)), ("num_votes", len(pb.votes))):
            text = self.meta.get(key, "").strip()
            if text and text.isdigit() and text.isascii() and int(text) != count:
                self.warn(meta_line(pb, key), "count-mismatch",
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
            line = line_of(pb.vote_lines, n)
            ids = [v.strip() for v in vote.split(",")] if vote.strip() else []
            pts = None
            if use_points and (points.strip() or ids):
                raw = points.split(",") if points.strip() else []
                if len(raw) != len(ids):
                    raise PabulibError(
                        f"vote lists {len(ids)} projects but {len(raw)} points", line
                    )
                pts = [whole(p, "points", line) for p in raw]
            if "" in ids:
                if pts is not None:
                    raise PabulibError("vote lists an empty project id (',,' or a trailing ',') "
                                       "next to points", line)
                ids = [pid for pid in ids if pid]
                quirks.setdefault(key, []).append((
                    "empty-vote-item", f"the vote {shown(vote)} has an empty item (',,' or a "
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
                    self.warn(line_of(pb.vote_lines, n), kind, message)
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
