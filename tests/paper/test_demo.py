"""The demo city's paper ballots: an open session this year (two volunteers, sheets keyed, one open
discrepancy), a closed and reconciled session last year whose paper ballots are in its result, and
``pbvote demo``/``up`` printing unkeyed serials under a line that says "serial"."""
from __future__ import annotations

import re

import sqlalchemy as sa
from conftest import csrf_token

from pbvote.auth.models import User
from pbvote.ballots.models import Ballot, BallotChannel
from pbvote.ballots.paper import services
from pbvote.ballots.paper.models import PaperSession, SheetStatus
from pbvote.cli import cli
from pbvote.cycles.models import Cycle
from pbvote.results.services import election_for_budget
from pbvote.demo import DEMO_CYCLE_SLUG, DEMO_PASSWORD, PAST_CYCLE_SLUG
from pbvote.extensions import db


def _cycle(slug):
    return db.session.scalar(sa.select(Cycle).where(Cycle.slug == slug))


def test_the_demo_has_an_open_session_and_a_closed_reconciled_one_in_last_years_result(runner, client):
    result = runner.invoke(cli, ["demo"])
    assert result.exit_code == 0, result.output
    open_session = db.session.scalar(sa.select(PaperSession).where(PaperSession.cycle.has(Cycle.slug == DEMO_CYCLE_SLUG)))
    assert not open_session.is_closed
    assert {v.email for v in open_session.volunteers} == {"volunteer@demo.pbvote.org", "volunteer2@demo.pbvote.org"}
    queue = services.sheets_for_staff(open_session.cycle_id)
    assert [s.status for s in queue] == [SheetStatus.DISCREPANCY]
    assert any(rec.outcomes and rec.accounted for rec in services.reconcile(open_session))
    assert services.cycle_conflicts(open_session.cycle)  # a letter's code that had voted online

    past = _cycle(PAST_CYCLE_SLUG)
    [closed] = db.session.scalars(sa.select(PaperSession).where(PaperSession.cycle_id == past.id)).all()
    assert closed.is_closed and services.is_balanced(services.reconcile(closed))
    for budget in past.budgets:
        paper = db.session.scalar(sa.select(sa.func.count()).select_from(Ballot).where(
            Ballot.budget_id == budget.id, Ballot.channel == BallotChannel.PAPER, Ballot.voided_at.is_(None)))
        everyone = db.session.scalar(sa.select(sa.func.count()).select_from(Ballot).where(
            Ballot.budget_id == budget.id, Ballot.superseded_at.is_(None), Ballot.voided_at.is_(None)))
        assert paper == 12 and sum(b.weight for b in election_for_budget(budget).ballots) == everyone

    # The printed serials are unkeyed sheets of the open session, and a demo volunteer keys one.
    lines = result.output.splitlines()
    start = next(i for i, line in enumerate(lines) if "serial" in line.lower())
    serials = [line.strip() for line in lines[start + 1:] if re.fullmatch(r"\s+\d{8}", line)]
    assert len(serials) >= 3
    volunteer = db.session.scalar(sa.select(User).where(User.email == "volunteer2@demo.pbvote.org"))
    response = client.post("/sign-in", data={"email": volunteer.email, "password": DEMO_PASSWORD,
                                             "csrf_token": csrf_token(client)})
    assert response.status_code == 302
    page = client.get(f"/paper/sessions/{open_session.id}/entry").get_data(as_text=True)
    token = re.search(r'name="token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post(f"/paper/sessions/{open_session.id}/entry", data={
        "csrf_token": csrf_token(client, f"/paper/sessions/{open_session.id}/entry"), "token": token,
        "serial": serials[0], "choices": "1"})
    assert response.status_code == 200 and "first keying saved" in response.get_data(as_text=True)
