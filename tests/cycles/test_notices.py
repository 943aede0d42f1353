"""Results published: the service the results domain calls, tested directly."""
from __future__ import annotations

import sqlalchemy as sa

from conftest import count_rows
from pbvote.cycles.notices import notify_results_published
from pbvote.extensions import db
from pbvote.notifications.kinds import NotificationKind, render_message
from pbvote.notifications.models import Notification, OutboxEmail
from pbvote.proposals.models import Support


def test_results_published_tells_authors_supporters_and_voters_once(app, request_ctx, voting_budget, make_user, cast):
    budget, projects = voting_budget()
    cycle = budget.cycle
    supporter, voter, outsider = make_user(), make_user(verified=True), make_user()
    db.session.add(Support(proposal_id=projects[0].id, user_id=supporter.id))
    db.session.commit()
    cast(voter, budget, [projects[0]])
    assert notify_results_published(cycle) == len(projects) + 2
    db.session.commit()
    told = set(db.session.scalars(sa.select(Notification.user_id)))
    assert told == {p.author_id for p in projects} | {supporter.id, voter.id} and outsider.id not in told
    notification = db.session.scalar(sa.select(Notification))
    assert notification.kind == NotificationKind.RESULTS_PUBLISHED and notification.link == f"/cycles/{cycle.slug}"
    assert render_message(notification.kind, notification.params) == f"The results of “{cycle.name}” are published."
    assert count_rows(OutboxEmail) == len(told)
    assert notify_results_published(cycle) is None  # once per cycle
    db.session.commit()
    assert count_rows(Notification) == len(told)


def test_results_published_can_lead_to_the_results_page(app, request_ctx, make_cycle, make_user, make_proposal):
    cycle = make_cycle("results")
    make_proposal(cycle)
    notify_results_published(cycle, link=f"/cycles/{cycle.slug}/results")
    db.session.commit()
    assert db.session.scalar(sa.select(Notification.link)) == f"/cycles/{cycle.slug}/results"
