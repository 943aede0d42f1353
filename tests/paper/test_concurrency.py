"""A serial never becomes two ballots, also when volunteers submit it at the same moment: bursts of
entry POSTs released by a barrier, against a real SQLite file (the default fixture) or PostgreSQL
(``PBVOTE_TEST_DATABASE_URL``) — never an in-memory database."""
from __future__ import annotations

import re
import threading

import pytest
import sqlalchemy as sa
from conftest import PASSWORD, count_rows, csrf_token

from pbvote.ballots.models import Ballot
from pbvote.ballots.paper.models import EntryFlag, EntryState, PaperEntry, PaperSheet, SheetStatus
from pbvote.extensions import db

TOKEN_RE = re.compile(r'name="token" type="hidden" value="([^"]+)"')
VOLUNTEERS = 8


def _signed_in_form(app, user, session_id):
    """A client signed in as ``user`` and the entry form's hidden fields (CSRF token, submission token)."""
    client = app.test_client()
    response = client.post("/sign-in", data={"email": user.email, "password": PASSWORD, "csrf_token": csrf_token(client)})
    assert response.status_code == 302
    body = client.get(f"/paper/sessions/{session_id}/entry").get_data(as_text=True)
    return client, {"csrf_token": csrf_token(client, f"/paper/sessions/{session_id}/entry"),
                    "token": TOKEN_RE.search(body).group(1)}


def burst(app, posts):
    """Send every (client, path, data) at the same instant; their status codes, in order."""
    barrier = threading.Barrier(len(posts))
    statuses = [0] * len(posts)
    db.session.commit()
    db.session.close()  # the test's own connection must not hold a lock while the burst runs

    def worker(index):
        client, path, data = posts[index]
        barrier.wait()
        statuses[index] = client.post(path, data=data).status_code

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(posts))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return statuses


@pytest.fixture
def crowd(paper, make_user):
    """A session with ``VOLUNTEERS`` volunteers, each signed in on their own client."""

    def make(**kwargs):
        p = paper(sheets=3, **kwargs)
        volunteers = [p.v1, p.v2] + [make_user("volunteer") for _ in range(VOLUNTEERS - 2)]
        p.session.volunteers = volunteers
        db.session.commit()
        return p, volunteers

    return make


def _keyings(app, p, volunteers, line):
    path = f"/paper/sessions/{p.session.id}/entry"
    posts = []
    for volunteer in volunteers:
        client, form = _signed_in_form(app, volunteer, p.session.id)
        posts.append((client, path, dict(form, serial=p.sheets[0].serial, choices=line)))
    return posts


def test_volunteers_keying_the_same_sheet_at_the_same_moment_make_one_ballot(app, crowd):
    p, volunteers = crowd()
    sheet_id = p.sheets[0].id
    statuses = burst(app, _keyings(app, p, volunteers, "1 2"))
    assert all(status in (200, 409) for status in statuses), statuses
    sheet = db.session.get(PaperSheet, sheet_id)
    assert sheet.status == SheetStatus.MATCHED and sheet.ballot_id is not None
    assert count_rows(Ballot) == 1
    active = db.session.scalars(sa.select(PaperEntry).where(PaperEntry.state == EntryState.ACTIVE)).all()
    assert sorted(e.slot for e in active) == [1, 2] and len({e.author_id for e in active}) == 2
    flagged = count_rows(PaperEntry, PaperEntry.flag == EntryFlag.EXTRA)
    assert flagged + 2 + statuses.count(409) == VOLUNTEERS  # every other keying flagged (or refused), none counted


def test_two_second_keyings_of_a_sheet_at_the_same_moment_make_one_ballot(app, crowd, key):
    p, volunteers = crowd()
    key(p.v1, p.session, p.sheets[0].serial, "3")
    statuses = burst(app, _keyings(app, p, volunteers[1:3], "3"))
    assert sorted(statuses) == [200, 200], statuses
    assert count_rows(Ballot) == 1
    assert count_rows(PaperEntry, PaperEntry.flag == EntryFlag.EXTRA) == 1


def test_without_the_sheets_lock_the_database_still_refuses_a_second_ballot_of_a_serial(app, paper):
    """The partial unique index on (budget, serial) among live ballots, alone: writers that skip the
    sheet's row lock and write the same serial's ballot at the same moment — one is stored."""
    from pbvote.ballots import services as ballot_services
    from pbvote.errors import Conflict

    p = paper(sheets=1)
    budget_id, serial, clerk_id, project_id = p.budget.id, p.sheets[0].serial, p.staff.id, p.projects[0].id
    cast_at = p.session.starts_at
    db.session.commit()
    db.session.close()
    writers = 6
    barrier = threading.Barrier(writers)
    outcomes = [None] * writers

    def worker(index):
        from pbvote.auth.models import User
        from pbvote.cycles.models import Budget

        with app.app_context(), app.test_request_context("/", method="POST"):  # a write: BEGIN IMMEDIATE on SQLite
            budget, clerk = db.session.get(Budget, budget_id), db.session.get(User, clerk_id)
            budget.cycle.phases  # loaded before the race
            db.session.commit()  # and no lock held while waiting for the others (SQLite's is one per database)
            barrier.wait()
            try:
                ballot_services.cast_paper_ballot(budget, [ballot_services.Choice(project_id)], serial=serial,
                                                  clerk=clerk, cast_at=cast_at)
                db.session.commit()
                outcomes[index] = "stored"
            except Conflict:
                db.session.rollback()
                outcomes[index] = "refused"
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert sorted(outcomes) == ["refused"] * (writers - 1) + ["stored"], outcomes
    assert count_rows(Ballot) == 1
