"""Importing a real election from a pabulib ``.pb`` file as a closed, published cycle.

:func:`import_pabulib` creates the cycle (voting closed on the file's ``date_end``), its one budget
with the file's ballot rules, every project (name, cost, category, coordinates) as a feasible
proposal, its groups of mutually exclusive projects (META ``pbvote_exclusive_groups``, where the
rule counts them), and every ballot with its choices; then it publishes the result under the file's rule
(greedy when the file names none, and the publication says so).

Ballots go in as plain rows with ids reserved ahead (:func:`_reserve_ballot_ids`) and
executemany, instead of 90,000 ORM objects: the same rows the cast path would write for an online
or paper ballot, in seconds.  Online ballots need a tracking
hash (a check constraint); an imported ballot gets the hash of a random code that nobody holds.
"""
from __future__ import annotations

import hashlib
import os
import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from babel.numbers import get_currency_precision
from flask_babel import gettext as _

from pbvote import audit, tally
from pbvote.auth.models import Role, User
from pbvote.ballots.models import Ballot, BallotChannel, BallotChoice
from pbvote.cycles.models import BallotType, Budget, Category, Cycle, Phase, PhaseKind
from pbvote.errors import InvalidInput
from pbvote.extensions import db
from pbvote.proposals.models import ExclusiveGroup, ExclusiveGroupMember, Proposal, ProposalStatus
from pbvote.results.models import Publication
from pbvote.results.publication import publish_result
from pbvote.tally import pabulib
from pbvote.timeutil import utcnow

#: pabulib ``vote_type`` → our ballot type (an approval file with ``max_sum_cost`` is a knapsack ballot)
BALLOT_TYPES = {
    "approval": BallotType.APPROVAL,
    "knapsack": BallotType.KNAPSACK,
    "cumulative": BallotType.CUMULATIVE,
    # each project scored on its own (no total to spread): a points ballot without a total, counted
    # the same way (a project's score is the sum of its points)
    "scoring": BallotType.CUMULATIVE,
    "ordinal": BallotType.RANKING,
    "choose-1": BallotType.CHOOSE_ONE,
}
#: pabulib ``voting_method`` → channel (anything else, "internet" included, counts as online)
PAPER_METHODS = {"paper", "paper ballot", "papier", "stationary"}
IMPORT_AUTHOR = "pabulib-import@pbvote.invalid"
BATCH = 5_000


@dataclass(frozen=True)
class Imported:
    cycle: Cycle
    budget: Budget
    publication: Publication
    ballots: int


def _slug(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.replace("ł", "l").replace("Ł", "L"))
    text = re.sub(r"[^a-zA-Z0-9]+", "-", text.encode("ascii", "ignore").decode()).strip("-").lower()
    return text[:50] or "pabulib"


def _unique_slug(base: str) -> str:
    taken = set(db.session.scalars(sa.select(Cycle.slug).where(Cycle.slug.like(f"{base}%"))))
    slug, n = base, 1
    while slug in taken:
        n += 1
        slug = f"{base}-{n}"
    return slug


def _date(text: str | None) -> datetime | None:
    for fmt in ("%d.%m.%Y", "%Y-%m-%d", "%d/%m/%Y", "%Y.%m.%d"):
        try:
            return datetime.strptime((text or "").strip(), fmt)
        except ValueError:
            continue
    return None


def _author() -> User:
    """The account imported projects are attributed to (cannot sign in: no usable password)."""
    user = db.session.scalar(sa.select(User).where(User.email == IMPORT_AUTHOR))
    if user is None:
        user = User(email=IMPORT_AUTHOR, display_name="pabulib", password_hash="!", role=Role.RESIDENT,
                    is_active_account=False)
        db.session.add(user)
    return user


def _minor(amount: int, scale: int, precision: int, what: str) -> int:
    """An amount of the file (``amount / scale`` currency units) in the currency's smallest unit."""
    value, rest = divmod(amount * 10**precision, scale)
    if rest:
        raise InvalidInput(_("%(what)s has more decimals than the currency allows.", what=what))
    return value


def _whole(value: str | None) -> int | None:
    """A positive whole number from a META value, or ``None``."""
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None


def _coordinate(value: str | None) -> float | None:
    try:
        return float(value) if value not in (None, "") else None
    except ValueError:
        return None


def import_pabulib(path: str | os.PathLike, actor=None, *, now: datetime | None = None) -> Imported:
    """Create a closed cycle from a pabulib file and publish its result; flushes, never commits."""
    now = now or utcnow()
    path = Path(path)
    try:
        pb = pabulib.read(path)
        election = pb.to_election()
    except (OSError, pabulib.PabulibError) as error:
        raise InvalidInput(_("Cannot read %(file)s: %(error)s", file=path.name, error=str(error))) from None
    meta = pb.meta_dict
    # an approval file with max_sum_cost is a knapsack ballot
    kind_key = "knapsack" if election.vote_type == "approval" and election.max_sum_cost is not None else election.vote_type
    ballot_type = BALLOT_TYPES.get(kind_key)
    if ballot_type is None:
        raise InvalidInput(_("Ballots of type %(type)s cannot be imported.", type=election.vote_type))
    meta_rule = meta.get("rule", "").strip()
    note = None
    if meta_rule and meta_rule in tally.FILE_RULES:
        rule, options = tally.rule_for_file(meta_rule)
    elif meta_rule and meta_rule != "unknown":
        rule, options = "greedy", {}
        note = _("The file names the rule %(rule)s, which pbvote does not count yet: counted with greedy "
                 "(most votes first) instead, so this result may differ from the city's.", rule=meta_rule)
    else:
        rule, options = "greedy", {}
        note = _("The file names no rule: counted with greedy (most votes first), as most cities do.")
    if rule == "greedy-threshold":
        options = {**options, "threshold": election.min_project_score_threshold or 0}
    if election.vote_type == "scoring":
        scoring_note = _("The file's ballots score each project on its own; pbvote shows them as points "
                         "ballots without a total, and a project's score is the sum of its points.")
        note = f"{note} {scoring_note}" if note else scoring_note

    currency = (meta.get("currency") or "EUR").strip().upper()[:3]
    precision = get_currency_precision(currency)
    scale = election.money_scale
    end = _date(meta.get("date_end")) or (now - timedelta(days=1))
    end = min(end + timedelta(days=1), now)  # the last day of voting included, never in the future
    begin = min(_date(meta.get("date_begin")) or end - timedelta(days=14), end - timedelta(hours=1))
    name = (meta.get("description") or path.stem).strip()[:160]
    cycle = Cycle(
        slug=_unique_slug(_slug(path.stem)), name=name, currency=currency, is_published=True,
        description=_("Imported from the pabulib file %(file)s (%(unit)s, %(instance)s).", file=path.name,
                      unit=meta.get("unit", ""), instance=meta.get("instance", "")),
    )
    cycle.phases = [
        Phase(kind=PhaseKind.VOTING, starts_at=begin, ends_at=end),
        Phase(kind=PhaseKind.RESULTS, starts_at=end, ends_at=max(end + timedelta(days=365), now + timedelta(days=1))),
    ]
    categories: dict[str, Category] = {}
    for project in election.projects:
        for label in (c.strip() for c in project.category.split(",")):
            if label and label not in categories:
                categories[label] = Category(name=label[:80])
    cycle.categories = list(categories.values())
    budget = Budget(
        name=(meta.get("subunit") or meta.get("unit") or name).strip()[:120], position=0,
        total_amount=_minor(election.budget, scale, precision, _("The budget")),
        ballot_type=ballot_type,
        min_choices=election.min_length or 1,
        max_choices=election.max_length,
        points_total=election.max_sum_points if election.vote_type == "cumulative" else None,
        points_per_project=_whole(meta.get("max_points")) if election.vote_type in ("cumulative", "scoring") else None,
        tally_rule=rule, tally_params=dict(options), frozen_at=begin,
    )
    if election.vote_type == "ordinal" and not budget.max_choices:
        budget.max_choices = max((len(b.projects) for b in election.ballots), default=1)
    cycle.budgets = [budget]
    db.session.add(cycle)
    author = _author()
    latitudes, longitudes = pb.column("latitude") or {}, pb.column("longitude") or {}
    descriptions = pb.column("description") or {}
    proposals: dict[str, Proposal] = {}
    for project in election.projects:
        cost = _minor(project.cost, scale, precision, project.id)
        first_category = next((c.strip() for c in project.category.split(",") if c.strip()), "")
        proposals[project.id] = Proposal(
            cycle=cycle, budget=budget, author=author, category=categories.get(first_category),
            title=(project.name or project.id)[:160],
            body=descriptions.get(project.id) or _("Project %(id)s of the imported election.", id=project.id),
            estimated_amount=cost, final_amount=cost, status=ProposalStatus.FEASIBLE,
            latitude=_coordinate(latitudes.get(project.id)), longitude=_coordinate(longitudes.get(project.id)),
            submitted_at=begin, reviewed_at=begin,
        )
    db.session.add_all(proposals.values())
    db.session.flush()
    if election.exclusive_groups:  # META pbvote_exclusive_groups (pbvote's own open data)
        if tally.RULES[rule].groups:
            for n, group in enumerate(election.exclusive_groups, start=1):
                db.session.add(ExclusiveGroup(
                    budget_id=budget.id, name=_("Mutually exclusive in the imported file (group %(n)d)", n=n),
                    members=[ExclusiveGroupMember(proposal_id=proposals[pid].id) for pid in group],
                ))
            db.session.flush()
        else:
            extra = _("The file's groups of mutually exclusive projects were left out: its rule does not count them.")
            note = f"{note} {extra}" if note else extra
    ballots = _insert_ballots(pb, election, budget, {pid: p.id for pid, p in proposals.items()}, begin, end,
                              clerk_id=author.id)
    if db.session.connection().dialect.name == "postgresql":
        # fresh statistics for the planner: without them it counts 90,000 new ballots by nested loops
        db.session.execute(sa.text("ANALYZE ballots"))
        db.session.execute(sa.text("ANALYZE ballot_choices"))
    audit.record("results.imported", actor=actor, subject=cycle, file=path.name, ballots=ballots,
                 sha256=hashlib.sha256(path.read_bytes()).hexdigest(), rule=rule)
    publication = publish_result(budget, actor, note=note, now=now)
    return Imported(cycle, budget, publication, ballots)


def _reserve_ballot_ids(connection: sa.Connection, n: int) -> list[int]:
    """``n`` ballot ids nobody else will take: from the sequence on PostgreSQL (concurrent casts
    draw from it too); on SQLite, after the largest, under the write lock this transaction holds
    since its first flush.  Plain executemany then inserts the rows (SQLite runs an INSERT with
    RETURNING row by row: 90,000 statements)."""
    if connection.dialect.name == "postgresql":
        return list(connection.execute(
            sa.text("SELECT nextval(pg_get_serial_sequence('ballots', 'id')) FROM generate_series(1, :n)"), {"n": n},
        ).scalars())
    start = (connection.execute(sa.select(sa.func.max(Ballot.__table__.c.id))).scalar() or 0) + 1
    return list(range(start, start + n))


def _write_rows(connection: sa.Connection, insert: sa.Insert, rows: list[dict]) -> None:
    """Insert ``rows`` into the table of ``insert``: with ``COPY`` on PostgreSQL through psycopg
    (executemany there costs one round trip a row: 80 s for Łódź 2022's 326,000 choices, COPY a
    few seconds), else with executemany.  Same rows either way; enum columns go in as their
    stored values, as the column type would write them."""
    if not rows:
        return
    table = insert.table
    if connection.dialect.name == "postgresql" and connection.dialect.driver == "psycopg":
        names = list(rows[0])
        raw = connection.connection.dbapi_connection
        with raw.cursor() as cursor:
            with cursor.copy(f"COPY {table.name} ({', '.join(names)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row([value.value if isinstance(value, BallotChannel) else value for value in row.values()])
        return
    connection.execute(insert, rows)


def _insert_ballots(pb: pabulib.PabulibFile, election: tally.Election, budget: Budget,
                    proposal_ids: dict[str, int], begin: datetime, end: datetime, *, clerk_id: int) -> int:
    """Every voter's ballot and choices, as plain rows in batches; the number of ballots.  A paper
    ballot's serial is its position in the file (``IMP000000042``: the file has no sheets) and its
    clerk the importer, as the schema asks of every paper ballot."""
    columns = pb.vote_columns
    vote_at = columns.index("vote")
    points_at = columns.index("points") if "points" in columns else None
    method_at = columns.index("voting_method") if "voting_method" in columns else None
    ordinal = election.vote_type == "ordinal"
    cast_at = end - timedelta(seconds=1)
    ballot_insert = sa.insert(Ballot.__table__)
    choice_insert = sa.insert(BallotChoice.__table__)
    connection = db.session.connection()
    total = 0
    for start in range(0, len(pb.votes), BATCH):
        rows = pb.votes[start:start + BATCH]
        ballot_rows, contents = [], []
        for row in rows:
            listed = [p.strip() for p in row[vote_at].split(",")]
            given = row[points_at].split(",") if points_at is not None and row[points_at] else None
            # a project listed twice counts once (the first time, with its points), as the reader does
            firsts = {}
            for i, pid in enumerate(listed):
                if pid and pid not in firsts:
                    firsts[pid] = i
            projects = list(firsts)
            if not projects:
                continue
            points = None
            if given and len(given) == len(listed) and election.vote_type in ("cumulative", "scoring"):
                points = [int(given[firsts[pid]]) for pid in projects]  # checked by the reader
                if any(value < 0 for value in points):
                    raise InvalidInput(_("Voter %(voter)s gives a project negative points, which pbvote cannot count.",
                                         voter=row[0]))
                # a project given no points is not chosen (it adds nothing to any score)
                kept = [(pid, value) for pid, value in zip(projects, points) if value > 0]
                projects, points = [pid for pid, _v in kept], [value for _p, value in kept]
                if not projects:
                    continue
            method = (row[method_at].strip().lower() if method_at is not None else "")
            paper = method in PAPER_METHODS
            ballot_rows.append({
                "budget_id": budget.id,
                "channel": BallotChannel.PAPER if paper else BallotChannel.ONLINE,
                "cast_at": cast_at,
                "tracking_hash": None if paper else hashlib.sha256(secrets.token_bytes(16)).hexdigest(),
                "paper_serial": f"IMP{total + len(ballot_rows) + 1:09d}" if paper else None,
                "recorded_by_id": clerk_id if paper else None,
            })
            contents.append((projects, points))
        if not ballot_rows:
            continue
        ids = _reserve_ballot_ids(connection, len(ballot_rows))
        for row, ballot_id in zip(ballot_rows, ids):
            row["id"] = ballot_id
        _write_rows(connection, ballot_insert, ballot_rows)
        choice_rows = []
        for ballot_id, (projects, points) in zip(ids, contents):
            for i, pid in enumerate(projects):
                choice_rows.append({
                    "ballot_id": ballot_id, "proposal_id": proposal_ids[pid],
                    "points": points[i] if points and election.vote_type in ("cumulative", "scoring") else None,
                    "rank": i + 1 if ordinal else None,
                })
        _write_rows(connection, choice_insert, choice_rows)
        total += len(ids)
    return total
