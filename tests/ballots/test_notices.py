"""Voting opened: announced once, by the mail worker, to the people who took part in the cycle."""
from __future__ import annotations

import logging
import threading
from datetime import timedelta

import sqlalchemy as sa

from conftest import count_rows
from pbvote.ballots import notices
from pbvote.extensions import db
from pbvote.notifications import worker
from pbvote.notifications.kinds import NotificationKind
from pbvote.notifications.models import Announcement, Notification, OutboxEmail, OutboxStatus
from pbvote.notifications.participants import participant_ids
from pbvote.proposals.models import Coauthor, CoauthorStatus, Comment, Support
from pbvote.timeutil import utcnow

OPENED = NotificationKind.VOTING_OPENED


def take_part(cycle, make_user, make_proposal):
    """An author, a co-author, a supporter and a commenter of the cycle's proposal (and an outsider)."""
    author, coauthor, supporter, commenter, outsider = (make_user() for _ in range(5))
    proposal = make_proposal(cycle, author=author)
    proposal.coauthors = [Coauthor(user=coauthor, status=CoauthorStatus.ACCEPTED)]
    db.session.add_all([Support(proposal_id=proposal.id, user_id=supporter.id),
                        Comment(proposal_id=proposal.id, author_id=commenter.id, body="Yes!")])
    db.session.commit()
    return {author.id, coauthor.id, supporter.id, commenter.id}, outsider


def announced_to() -> set[int]:
    return set(db.session.scalars(sa.select(Notification.user_id).where(Notification.kind == OPENED)))


def test_the_worker_announces_voting_once_to_those_who_took_part(app, make_cycle, make_user, make_proposal, caplog):
    app.config["PBVOTE_BASE_URL"] = "https://budget.example.org"
    cycle = make_cycle("voting")
    people, outsider = take_part(cycle, make_user, make_proposal)
    with caplog.at_level(logging.INFO, logger="pbvote.notifications.mail"):
        report = worker.run_pass()
    assert report.jobs["pbvote.ballots.notices.announce_voting_opened"] == 1
    assert announced_to() == people and outsider.id not in announced_to()
    notification = db.session.scalar(sa.select(Notification).where(Notification.kind == OPENED))
    assert notification.link == f"/cycles/{cycle.slug}/vote" and notification.params["cycle"] == cycle.name
    # the e-mails went out in the same pass (no mail server here: into the log)
    assert [e.status for e in db.session.scalars(sa.select(OutboxEmail))] == [OutboxStatus.SENT] * 4
    assert f"https://budget.example.org/cycles/{cycle.slug}/vote" in caplog.text and "You can vote until" in caplog.text
    marker = db.session.scalar(sa.select(Announcement))
    assert (marker.subject_type, marker.subject_id, marker.recipient_count) == ("Cycle", cycle.id, 4)
    # once: later passes find the marker
    assert worker.run_pass().jobs["pbvote.ballots.notices.announce_voting_opened"] == 0
    assert count_rows(Notification) == 4 and count_rows(OutboxEmail) == 4


def test_only_published_cycles_whose_voting_is_running_are_announced(app, make_cycle, make_user, make_proposal):
    for phase in ("submission", "results"):
        take_part(make_cycle(phase), make_user, make_proposal)
    take_part(make_cycle("voting", published=False), make_user, make_proposal)
    assert notices.announce_voting_opened(now=utcnow()) == 0
    db.session.commit()
    assert count_rows(Notification) == 0 and count_rows(Announcement) == 0


def test_voting_is_announced_when_its_date_comes(app, make_cycle, make_user, make_proposal):
    cycle = make_cycle("review")  # voting starts in five days
    people, _outsider = take_part(cycle, make_user, make_proposal)
    assert notices.announce_voting_opened(now=utcnow()) == 0
    voting_starts = cycle.phase(notices.PhaseKind.VOTING).starts_at
    assert notices.announce_voting_opened(now=voting_starts) == 1
    db.session.commit()
    assert announced_to() == people


def test_two_workers_at_the_same_moment_announce_once(app, make_cycle, make_user, make_proposal):
    cycle = make_cycle("voting")
    people, _outsider = take_part(cycle, make_user, make_proposal)
    db.session.commit()
    db.session.close()
    barrier = threading.Barrier(2)
    results, errors = [], []

    def run():
        with app.app_context():
            try:
                barrier.wait()
                results.append(notices.announce_voting_opened(now=utcnow()))
                db.session.commit()
            except Exception as error:  # pragma: no cover - reported below
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == [] and sorted(results) == [0, 1]
    assert count_rows(Announcement) == 1 and count_rows(Notification) == len(people)


def test_voters_with_an_account_took_part(app, voting_budget, make_user, cast, code_for):
    budget, projects = voting_budget()
    voter = make_user(verified=True)
    cast(voter, budget, [projects[0]])
    code, _clear = code_for(budget.cycle, budget=budget)
    cast(code, budget, [projects[1]])  # an access code has no account to tell
    authors = {p.author_id for p in projects}
    assert set(db.session.scalars(participant_ids(budget.cycle_id))) == authors | {voter.id}


def test_a_late_worker_still_announces_while_voting_is_open(app, make_cycle, make_user, make_proposal):
    cycle = make_cycle("voting")  # opened five days ago; the worker was not running
    take_part(cycle, make_user, make_proposal)
    assert worker.run_pass(now=utcnow() + timedelta(days=4)).jobs["pbvote.ballots.notices.announce_voting_opened"] == 1
    assert worker.run_pass(now=utcnow() + timedelta(days=6)).jobs["pbvote.ballots.notices.announce_voting_opened"] == 0
