"""The pages: my notifications, my choices, and the staff's outbox."""
from __future__ import annotations

import re

import sqlalchemy as sa
from conftest import count_rows, csrf_token, post_form

from pbvote.extensions import db
from pbvote.notifications import services
from pbvote.notifications.kinds import NotificationKind
from pbvote.notifications.models import Notification, NotificationPreference, OutboxEmail, OutboxStatus

INVITED = NotificationKind.COAUTHOR_INVITED


def tell(user, *titles):
    for title in titles:
        services.deliver([user], INVITED, "/my/proposals", params={"proposal": title, "actor": "Ann"})
    db.session.commit()
    return list(db.session.scalars(sa.select(Notification).where(Notification.user_id == user.id).order_by(Notification.id)))


def test_the_header_shows_the_unread_count(client, make_user, login):
    user = make_user()
    login(user)
    page = client.get("/").get_data(as_text=True)
    assert 'href="/notifications">Notifications</a>' in page
    tell(user, "one", "two")
    page = client.get("/").get_data(as_text=True)
    assert re.search(r'href="/notifications">Notifications <span class="badge">2<span class="visually-hidden"> unread', page)


def test_the_list_shows_unread_first_with_their_text_and_link(client, make_user, login):
    user = make_user()
    first, second = tell(user, "Older", "Newer")
    services.mark_read(user, second)
    db.session.commit()
    login(user)
    response = client.get("/notifications")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert page.index("“Older”") < page.index("“Newer”")  # unread before read, though older
    assert '<a href="/my/proposals">Ann invited you to co-author “Older”.</a>' in page and "1 unread" in page
    assert page.count("Mark as read</button>") == 1 and "Mark all as read" in page


def test_an_empty_list_says_what_will_come(client, make_user, login):
    login(make_user())
    assert "Nothing yet." in client.get("/notifications").get_data(as_text=True)


def test_marking_one_read(client, make_user, login):
    user = make_user()
    (notification,) = tell(user, "P")
    login(user)
    response = post_form(client, f"/notifications/{notification.id}/read", token_page="/notifications")
    assert response.status_code == 303 and response.headers["Location"].endswith("/notifications")
    db.session.refresh(notification)
    assert notification.read_at is not None


def test_someone_elses_notification_is_not_found(client, make_user, login):
    (theirs,) = tell(make_user(), "P")
    login(make_user())
    assert post_form(client, f"/notifications/{theirs.id}/read", token_page="/notifications").status_code == 404
    db.session.refresh(theirs)
    assert theirs.read_at is None


def test_marking_all_read(client, make_user, login):
    user, other = make_user(), make_user()
    tell(user, "a", "b", "c")
    tell(other, "d")
    login(user)
    response = post_form(client, "/notifications/read-all", token_page="/notifications", follow_redirects=True)
    assert "All your notifications are marked as read." in response.get_data(as_text=True)
    assert services.unread_count(user) == 0 and services.unread_count(other) == 1


def test_state_changes_need_the_csrf_token(client, make_user, login):
    user = make_user()
    (notification,) = tell(user, "P")
    login(user)
    assert client.post(f"/notifications/{notification.id}/read").status_code == 400
    assert client.post("/notifications/read-all").status_code == 400
    assert client.post("/account/notifications", data={"voting_opened_email": "y"}).status_code == 400
    assert services.unread_count(user) == 1 and count_rows(NotificationPreference) == 0


def test_the_choices_page_shows_a_labelled_box_per_kind_and_channel(client, make_user, login):
    login(make_user())
    page = client.get("/account/notifications").get_data(as_text=True)
    for kind in NotificationKind:
        for channel in ("in_app", "email"):
            name = f"{kind.value}_{channel}"
            assert re.search(rf'<input[^>]*id="{name}"[^>]*type="checkbox"', page) or re.search(
                rf'<input[^>]*type="checkbox"[^>]*id="{name}"', page), name
            assert f'<label for="{name}">' in page
    assert "<legend>Replies to your comments</legend>" in page
    # the defaults: replies are not e-mailed, everything else is
    assert not re.search(r'checked[^>]*id="comment_reply_email"|id="comment_reply_email"[^>]*checked', page)
    assert re.search(r'checked[^>]*id="voting_opened_email"|id="voting_opened_email"[^>]*checked', page)


def test_saving_choices(client, make_user, login):
    user = make_user()
    login(user)
    ticked = {f"{kind.value}_in_app": "y" for kind in NotificationKind}
    ticked["comment_reply_email"] = "y"  # e-mail for replies only
    response = post_form(client, "/account/notifications", ticked, token_page="/account/notifications")
    assert response.status_code == 303 and response.headers["Location"].endswith("/account/notifications")
    choices = services.preferences_of(user)
    assert choices[NotificationKind.COMMENT_REPLY] == services.Channels(in_app=True, email=True)
    assert choices[NotificationKind.VOTING_OPENED] == services.Channels(in_app=True, email=False)
    page = client.get("/account/notifications").get_data(as_text=True)
    assert "Your notification choices are saved." in page
    services.notify(user, NotificationKind.VOTING_OPENED, "/cycles/x", cycle="X")
    db.session.commit()
    assert count_rows(OutboxEmail) == 0 and count_rows(Notification) == 1


def test_the_account_page_links_to_the_choices(client, make_user, login):
    login(make_user())
    assert 'href="/account/notifications"' in client.get("/account").get_data(as_text=True)


def failed_email(user) -> OutboxEmail:
    services.notify(user, INVITED, "/my/proposals", proposal="Benches")
    db.session.commit()
    email = db.session.scalar(sa.select(OutboxEmail))
    email.status, email.attempts, email.last_error = OutboxStatus.FAILED, 10, "SMTPRecipientsRefused: 550 No such mailbox"
    db.session.commit()
    return email


def test_staff_see_failed_emails_and_send_them_again(client, make_user, login):
    email = failed_email(make_user(email="gone@example.org"))
    staff = make_user("staff")
    login(staff)
    page = client.get("/notifications").get_data(as_text=True)
    assert "1 e-mail could not be sent." in page and 'href="/staff/outbox"' in page
    page = client.get("/staff/outbox").get_data(as_text=True)
    assert "gone@example.org" in page and "550 No such mailbox" in page and "Send again" in page
    response = post_form(client, f"/staff/outbox/{email.id}/retry", token_page="/staff/outbox", follow_redirects=True)
    assert "The e-mail to gone@example.org will be sent again." in response.get_data(as_text=True)
    db.session.refresh(email)
    assert email.status == OutboxStatus.PENDING and email.attempts == 0
    # sending it again twice: the second is refused with a message, nothing changes
    response = post_form(client, f"/staff/outbox/{email.id}/retry", token_page="/staff/outbox", follow_redirects=True)
    assert "Only an e-mail that was given up on can be sent again." in response.get_data(as_text=True)


def test_residents_cannot_see_the_outbox(client, make_user, login):
    email = failed_email(make_user())
    login(make_user())
    assert client.get("/staff/outbox").status_code == 403
    token = csrf_token(client, "/notifications")
    assert client.post(f"/staff/outbox/{email.id}/retry", data={"csrf_token": token}).status_code == 403
    assert "could not be sent" not in client.get("/notifications").get_data(as_text=True)


def test_signed_out_visitors_are_sent_to_sign_in(client):
    for path in ("/notifications", "/account/notifications"):
        response = client.get(path)
        assert response.status_code == 302 and "/sign-in" in response.headers["Location"]


def test_a_long_list_is_paged(client, make_user, login):
    user = make_user()
    services.deliver([user], INVITED, "/my/proposals", params={"proposal": "P", "actor": "Ann"})
    rows = [{"user_id": user.id, "kind": INVITED, "link": "/my/proposals", "params": {"proposal": f"P{i}"}}
            for i in range(40)]
    db.session.execute(sa.insert(Notification), rows)
    db.session.commit()
    login(user)
    first = client.get("/notifications").get_data(as_text=True)
    assert "Page 1 of 2" in first and 'href="/notifications?page=2"' in first
    second = client.get("/notifications?page=2").get_data(as_text=True)
    assert "Page 2 of 2" in second and second.count('class="notification card') == 11
