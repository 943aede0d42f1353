"""What proposals tell people: invitations, replies to comments, review outcomes; who took part."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from conftest import count_rows, post_form
from pbvote.errors import InvalidInput
from pbvote.extensions import db
from pbvote.notifications.kinds import NotificationKind, render_message
from pbvote.notifications.models import Notification, OutboxEmail
from pbvote.notifications.participants import participant_ids
from pbvote.proposals import services
from pbvote.proposals.models import CoauthorStatus, Coauthor

pytestmark = pytest.mark.usefixtures("request_ctx")


def told(user, kind=None) -> list[Notification]:
    statement = sa.select(Notification).where(Notification.user_id == user.id).order_by(Notification.id)
    if kind is not None:
        statement = statement.where(Notification.kind == kind)
    return list(db.session.scalars(statement))


def test_an_invitation_tells_the_invitee_in_the_app_and_by_email(make_cycle, make_user, make_proposal):
    cycle = make_cycle("submission")
    author = make_user(name="Ann")
    friend = make_user(email="zoe@example.org")
    proposal = make_proposal(cycle, status="draft", author=author, title="Benches on Elm Square")
    services.invite_coauthor(author, proposal, "zoe@example.org")
    db.session.commit()
    (notification,) = told(friend)
    assert notification.kind == NotificationKind.COAUTHOR_INVITED and notification.link == "/my/proposals"
    assert notification.subject_type == "Proposal" and notification.subject_id == proposal.id
    assert render_message(notification.kind, notification.params) == "Ann invited you to co-author “Benches on Elm Square”."
    email = db.session.scalar(sa.select(OutboxEmail).where(OutboxEmail.recipient == "zoe@example.org"))
    assert "Ann invited you to write the proposal “Benches on Elm Square”" in email.body_text
    assert told(author) == []  # the inviter is not told of their own action


def test_a_reply_tells_the_author_of_the_comment_replied_to(make_cycle, make_user, make_proposal):
    cycle = make_cycle("submission")
    proposal = make_proposal(cycle, status="submitted", title="Benches")
    first, second, third = make_user(name="First"), make_user(name="Second"), make_user(name="Third")
    top = services.add_comment(first, proposal, "Where exactly?")
    reply = services.add_comment(second, proposal, "By the fountain.", parent=top)
    services.add_comment(third, proposal, "Good spot. " * 40, parent=reply)  # a reply to a reply joins the thread
    services.add_comment(first, proposal, "Thanks!", parent=top)  # replying in one's own thread: nobody else
    db.session.commit()
    (to_first,) = told(first)
    assert render_message(to_first.kind, to_first.params) == "Second replied to your comment on “Benches”."
    assert to_first.link == f"/proposals/{proposal.id}#comment-{reply.id}"
    (to_second,) = told(second)  # the author of the comment replied to, not the thread's first
    assert to_second.params["excerpt"].endswith("…") and len(to_second.params["excerpt"]) == 300
    assert told(third) == []
    # replies are not e-mailed unless chosen
    assert count_rows(OutboxEmail) == 0


def test_a_top_level_comment_tells_nobody(make_cycle, make_user, make_proposal):
    proposal = make_proposal(make_cycle("submission"), status="submitted")
    services.add_comment(make_user(), proposal, "Nice.")
    db.session.commit()
    assert count_rows(Notification) == 0


def reviewable(make_cycle, make_user, make_proposal):
    cycle = make_cycle("review")
    author, coauthor, declined = make_user(name="Author"), make_user(name="Co"), make_user(name="Declined")
    proposal = make_proposal(cycle, status="submitted", author=author, title="Benches", cost=10_000_00)
    proposal.coauthors = [Coauthor(user=coauthor, status=CoauthorStatus.ACCEPTED),
                          Coauthor(user=declined, status=CoauthorStatus.DECLINED)]
    db.session.commit()
    return cycle, proposal, (author, coauthor, declined)


def test_feasible_tells_the_authors_the_final_cost(make_cycle, make_user, make_proposal):
    cycle, proposal, (author, coauthor, declined) = reviewable(make_cycle, make_user, make_proposal)
    services.mark_feasible(make_user("reviewer"), proposal, 12_500_00, "Steel benches cost more.")
    db.session.commit()
    for person in (author, coauthor):
        (notification,) = told(person, NotificationKind.PROPOSAL_REVIEWED)
        assert "it is feasible, at a final cost of €12,500." in render_message(notification.kind, notification.params)
    assert told(declined) == []
    bodies = list(db.session.scalars(sa.select(OutboxEmail.body_text)))
    assert len(bodies) == 2 and all("Steel benches cost more." in body for body in bodies)


def test_unfeasible_tells_the_authors_the_reason_by_email(make_cycle, make_user, make_proposal):
    cycle, proposal, (author, coauthor, _declined) = reviewable(make_cycle, make_user, make_proposal)
    services.mark_unfeasible(make_user("reviewer"), proposal, "The square is being rebuilt.")
    db.session.commit()
    (notification,) = told(author)
    assert "cannot be done" in render_message(notification.kind, notification.params)
    assert all("The square is being rebuilt." in body for body in db.session.scalars(sa.select(OutboxEmail.body_text)))


def test_a_merge_tells_the_merged_proposals_authors_and_leads_to_the_target(make_cycle, make_user, make_proposal):
    cycle, source, (author, coauthor, _declined) = reviewable(make_cycle, make_user, make_proposal)
    target = make_proposal(cycle, status="submitted", title="Seating for the square")
    services.merge_proposal(make_user("reviewer"), source, target, "Same place, same idea.")
    db.session.commit()
    (notification,) = told(coauthor)
    assert render_message(notification.kind, notification.params) == "Your proposal “Benches” was merged into “Seating for the square”."
    assert notification.link == f"/proposals/{target.id}"
    assert told(target.author) == []


def test_a_reviewer_who_is_an_author_is_not_told(make_cycle, make_user, make_proposal):
    staff_author = make_user("staff")
    proposal = make_proposal(make_cycle("review"), status="submitted", author=staff_author)
    services.mark_feasible(staff_author, proposal, proposal.estimated_amount)
    db.session.commit()
    assert count_rows(Notification) == 0


def test_a_refused_review_tells_nobody(make_cycle, make_user, make_proposal):
    proposal = make_proposal(make_cycle("review"), status="submitted")
    with pytest.raises(InvalidInput):
        services.mark_unfeasible(make_user("reviewer"), proposal, "")
    assert count_rows(Notification) == 0


def test_participants_are_authors_coauthors_supporters_and_commenters(make_cycle, make_user, make_proposal):
    cycle, other_cycle = make_cycle("submission"), make_cycle("submission")
    author, coauthor, invited, supporter, commenter, outsider = (make_user() for _ in range(6))
    proposal = make_proposal(cycle, status="submitted", author=author)
    proposal.coauthors = [Coauthor(user=coauthor, status=CoauthorStatus.ACCEPTED),
                          Coauthor(user=invited, status=CoauthorStatus.INVITED)]
    db.session.commit()
    services.support_proposal(supporter, proposal)
    services.add_comment(commenter, proposal, "Yes!")
    elsewhere = make_proposal(other_cycle, status="submitted", author=outsider)
    services.support_proposal(author, elsewhere)
    db.session.commit()
    assert set(db.session.scalars(participant_ids(cycle.id))) == {author.id, coauthor.id, supporter.id, commenter.id}


def test_the_comment_page_reply_notifies_through_the_request(app, client, make_cycle, make_user, make_proposal, login):
    proposal = make_proposal(make_cycle("submission"), status="submitted")
    first, second = make_user(), make_user()
    top = services.add_comment(first, proposal, "Where exactly?")
    db.session.commit()
    login(second)
    response = post_form(client, f"/proposals/{proposal.id}/comments", {"body": "By the fountain.", "parent_id": top.id},
                         token_page=f"/proposals/{proposal.id}")
    assert response.status_code in (302, 303), response.get_data(as_text=True)[:300]
    assert [n.kind for n in told(first)] == [NotificationKind.COMMENT_REPLY]
