"""Paper ballots in the demo city: an open community session this year, with its two volunteers,
sheets keyed (and one open discrepancy), voters in the register and a conflict; and last year a
closed, reconciled session whose paper ballots are in its result.

Deterministic: serials come from a seeded generator (real ones from the CSPRNG), so ``pbvote up``
can print a few of the open session's unkeyed serials, as it prints unused access codes.  Everything
goes through the same services as real paper ballots (printing, keying, the register, closing).
"""
from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime, timedelta

import sqlalchemy as sa

from pbvote.auth.models import User
from pbvote.ballots.demo import demo_codes
from pbvote.ballots.kinds import kind_of
from pbvote.ballots.models import BallotChannel
from pbvote.ballots.paper import services
from pbvote.ballots.paper.models import RegisterMethod
from pbvote.ballots.paper.serials import SERIAL_LENGTH, check_digit
from pbvote.cycles.models import Cycle, PhaseKind
from pbvote.extensions import db

VOLUNTEERS = ("volunteer@demo.pbvote.org", "volunteer2@demo.pbvote.org")
STAFF = "staff@demo.pbvote.org"
OPEN_PLACE = "Riverside Library"
CLOSED_PLACE = "Old Town Community Centre"
#: Sheets printed per budget for the open session; the demo keys the first ones and prints some of the rest.
OPEN_SHEETS = 40
#: How many sheets of each budget of the open session the demo keys (both keyings, then one left waiting).
OPEN_KEYED = {"City-wide": 9, "Riverside": 7}
PRINTED_SERIALS = 3


def _serials(seed: str) -> Callable[[], str]:
    rng = random.Random(seed)

    def draw() -> str:
        body = str(rng.randrange(10 ** (SERIAL_LENGTH - 2), 10 ** (SERIAL_LENGTH - 1)))
        return body + check_digit(body)

    return draw


def _line(rng: random.Random, budget, projects) -> str:
    """A plausible sheet, written as a volunteer keys it (the printed numbers; ranks in order)."""
    kind = kind_of(budget)
    choices = kind.receipt_order(kind.sample(rng, budget, projects))
    number_of = {p.id: n for n, p in enumerate(projects, start=1)}
    return " ".join(str(number_of[c.proposal_id]) + (f"={c.points}" if c.points else "") for c in choices)


def _key_both(volunteers, session, sheet, line: str, now: datetime, index: int) -> None:
    for offset, volunteer in enumerate(volunteers):
        token = f"demo-paper-{sheet.serial}-{offset}-{index:04d}-pbvote"
        services.record_paper_entry(volunteer, session, sheet.serial, line, token, now=now + timedelta(minutes=offset))


def _budget(cycle: Cycle, name: str):
    return next(b for b in cycle.budgets if b.name == name)


def add_demo_paper(cycle: Cycle, past: Cycle, now: datetime) -> None:
    """The open session in ``cycle`` (voting now) and the closed one in ``past`` (flushes; the demo commits)."""
    users = {u.email: u for u in db.session.scalars(sa.select(User).where(User.email.in_((*VOLUNTEERS, STAFF))))}
    staff, volunteers = users[STAFF], [users[email] for email in VOLUNTEERS]
    _open_session(cycle, staff, volunteers, now)
    _closed_session(past, staff, volunteers)


def _open_session(cycle: Cycle, staff, volunteers, now: datetime) -> None:
    start = (now - timedelta(days=2)).replace(hour=9, minute=0, second=0)
    voting = cycle.phase(PhaseKind.VOTING)
    start = max(start, voting.starts_at)
    budgets = [_budget(cycle, "City-wide"), _budget(cycle, "Riverside")]
    session = services.create_session(
        staff, cycle, place=OPEN_PLACE, address="12 Mill Street", starts_at=start, ends_at=start + timedelta(hours=7),
        budgets=budgets, volunteers=volunteers, now=now,
        notes="Bring the ballot box and the spare pens. Key the sheets in pairs: one volunteer, then the other.",
    )
    rng = random.Random("pbvote-demo-paper-2027")
    keyed_at = start + timedelta(hours=8)
    for budget in budgets:
        batch = services.generate_sheets(staff, session, budget, OPEN_SHEETS, now=start - timedelta(days=3),
                                         serial_source=_serials(f"pbvote-demo-serials-{budget.name}"))
        sheets, projects = services.batch_sheets(batch), services.batch_projects(batch)
        count = OPEN_KEYED[budget.name]
        for index, sheet in enumerate(sheets[: count - 1]):
            line = "blank" if index == 3 else _line(rng, budget, projects)
            _key_both(volunteers, session, sheet, line, keyed_at + timedelta(minutes=3 * index), index)
        # One sheet keyed once, waiting for the second volunteer.
        waiting = sheets[count - 1]
        services.record_paper_entry(volunteers[0], session, waiting.serial, _line(rng, budget, projects),
                                    f"demo-paper-{waiting.serial}-waiting-pbvote", now=keyed_at + timedelta(hours=1))
    # The open discrepancy: the second volunteer read a 4 where the first read a 1.
    city = budgets[0]
    sheet = services.batch_sheets(services.session_batches(session)[0])[OPEN_KEYED["City-wide"]]
    services.record_paper_entry(volunteers[0], session, sheet.serial, "1 3", f"demo-paper-{sheet.serial}-a-pbvote",
                                now=keyed_at + timedelta(hours=1, minutes=5))
    services.record_paper_entry(volunteers[1], session, sheet.serial, "4 3", f"demo-paper-{sheet.serial}-b-pbvote",
                                now=keyed_at + timedelta(hours=1, minutes=6))
    # The register: three residents by their accounts, and a letter's code that had voted online.
    residents = db.session.scalars(sa.select(User).where(User.email.in_(
        ["amina.diallo@demo.pbvote.org", "maria.santos@demo.pbvote.org", "olu.adeyemi@demo.pbvote.org"]))).all()
    for resident in residents:
        services.register_voter(volunteers[0], session, method=RegisterMethod.ACCOUNT, channel=BallotChannel.PAPER,
                                user=resident, now=start + timedelta(hours=1))
    services.register_voter(volunteers[1], session, method=RegisterMethod.ACCESS_CODE, channel=BallotChannel.PAPER,
                            code_text=demo_codes()[1], now=start + timedelta(hours=2))
    assert city in session.budgets


def _closed_session(past: Cycle, staff, volunteers) -> None:
    voting = past.phase(PhaseKind.VOTING)
    start = (voting.starts_at + timedelta(days=6)).replace(hour=10, minute=0, second=0)
    during = start + timedelta(hours=8)
    budgets = [_budget(past, "City-wide"), _budget(past, "Old Town")]
    session = services.create_session(staff, past, place=CLOSED_PLACE, address="1 Abbey Square", starts_at=start,
                                      ends_at=start + timedelta(hours=6), budgets=budgets, volunteers=volunteers,
                                      now=start - timedelta(days=5))
    rng = random.Random("pbvote-demo-paper-2026")
    for budget in budgets:
        batch = services.generate_sheets(staff, session, budget, 20, now=start - timedelta(days=2),
                                         serial_source=_serials(f"pbvote-demo-past-serials-{budget.name}"))
        sheets, projects = services.batch_sheets(batch), services.batch_projects(batch)
        lines = [_line(rng, budget, projects) for _ in range(12)] + ["blank", "spoiled", "1 2 3 4"]
        for index, (sheet, line) in enumerate(zip(sheets, lines)):
            _key_both(volunteers, session, sheet, line, during + timedelta(minutes=2 * index), index)
        services.record_counts(volunteers[0], session, budget, received=20, issued=len(lines), spoiled=1,
                               returned=20 - len(lines), now=during)
    services.close_session(staff, session, "", now=during + timedelta(hours=2))


def print_demo_serials(echo: Callable[[str], None]) -> None:
    """Print a few unkeyed serials of the open session (to try the keying screen)."""
    serials = []
    for name, keyed in OPEN_KEYED.items():
        draw = _serials(f"pbvote-demo-serials-{name}")
        drawn = [draw() for _ in range(OPEN_SHEETS)]
        serials += drawn[keyed + 1 if name == "City-wide" else keyed:][:PRINTED_SERIALS]
    echo("")
    echo(f"Demo paper ballot serials (unkeyed sheets of the open session at {OPEN_PLACE}, City-wide then "
         "Riverside; sign in as a volunteer and key them at /paper/sessions):")
    for serial in serials:
        echo(f"  {serial}")
