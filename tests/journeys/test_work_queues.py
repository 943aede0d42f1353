"""Issue 16, journey 3: every role's work queue is linked in the header, moderators act in place,
staff see the current phase and confirm before starting one early."""
from __future__ import annotations

import re

from pbvote.cycles.models import PhaseKind
from pbvote.extensions import db
from pbvote.proposals.models import Comment
from tests.conftest import post_form
from tests.journeys.test_vote_and_receipt import follow, links


def test_reviewer_reaches_the_review_queue_from_the_header(client, login, make_user, make_cycle, make_proposal):
    cycle = make_cycle("review")
    make_proposal(cycle, status="submitted", title="Benches by the river")
    login(make_user("reviewer"))
    queues = follow(client, client.get("/"), "Review queue")
    assert "1 proposal awaits review." in queues.get_data(as_text=True)
    queue = follow(client, queues, f"Review proposals {cycle.name}")
    assert "Benches by the river" in queue.get_data(as_text=True)


def test_residents_see_no_queue_links(client, login, make_user):
    login(make_user())
    labels = [text for _h, text in links(client.get("/"))]
    assert "Review queue" not in labels and "Moderation" not in labels


def test_moderator_hides_and_restores_a_reported_comment_in_the_queue(client, login, make_user, make_cycle, make_proposal):
    cycle = make_cycle()
    proposal = make_proposal(cycle, status="submitted")
    comment = Comment(proposal_id=proposal.id, author=make_user(name="Loud Person"), body="Rude words", flag_count=2)
    db.session.add(comment)
    db.session.commit()
    login(make_user("moderator"))
    queue = follow(client, client.get("/"), "Moderation")
    body = queue.get_data(as_text=True)
    assert "Rude words" in body and proposal.title in body
    assert 'for="reason-%d"' % comment.id in body  # a labelled reason field, in place

    response = post_form(client, f"/comments/{comment.id}/moderate", {"reason": "insults", "return_to": "queue"})
    assert response.status_code == 303 and "/moderation#comment-" in response.headers["Location"]
    db.session.expire_all()
    assert db.session.get(Comment, comment.id).is_hidden
    page = client.get("/moderation").get_data(as_text=True)
    assert re.search(r">\s*Restore<span", page)
    post_form(client, f"/comments/{comment.id}/moderate", {"reason": "misread", "return_to": "queue"})
    db.session.expire_all()
    assert not db.session.get(Comment, comment.id).is_hidden


def test_staff_see_the_current_phase_and_confirm_before_starting_the_next_early(client, login, make_user, make_cycle):
    cycle = make_cycle("review")
    login(make_user("staff"))
    cycles = follow(client, client.get("/"), "Manage cycles")
    edit = follow(client, cycles, cycle.name)
    body = edit.get_data(as_text=True)
    assert "Now: Review" in body
    confirm = follow(client, edit, "Start Voting now", contains=True)
    text = confirm.get_data(as_text=True)
    assert "starts now instead of on" in text and "cannot be undone" in text
    db.session.expire_all()
    assert cycle.is_in(PhaseKind.REVIEW)  # the GET changed nothing
    response = post_form(client, f"/staff/cycles/{cycle.id}/advance")
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(type(cycle), cycle.id).is_in(PhaseKind.VOTING)
