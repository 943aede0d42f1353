"""Account e-mails.  "Forgot your password?": a signed link by e-mail (through the outbox and a real SMTP server),
valid for a while and once, the same answer whether or not the address has an account, every
session ended by the new password, and the link never shown to staff in the outbox.  Confirming the
address: a link sent at sign-up, e-mail notifications only to confirmed addresses."""
from __future__ import annotations

import re

import sqlalchemy as sa
from conftest import PASSWORD, csrf_token, post_form, sign_in

from pbvote.audit import AuditEntry
from pbvote.extensions import db
from pbvote.notifications import worker
from pbvote.notifications.models import OutboxEmail, OutboxStatus

from notifications.conftest import MailServer, free_port, use_mail_server

NEW_PASSWORD = "a brand new passphrase"


def ask(client, email: str):
    return post_form(client, "/forgot-password", {"email": email})


def reset_link(mail: MailServer, address: str) -> str:
    (message,) = mail.to(address)
    (link,) = re.findall(r"https://budget\.example\.org(/reset-password/\S+)", message.get_content())
    return link


def _mail(app):
    server = MailServer(port=free_port())
    server.start()
    use_mail_server(app, server.port)
    app.config["PBVOTE_BASE_URL"] = "https://budget.example.org"
    return server


def test_a_resident_resets_their_password_by_the_emailed_link(app, client, make_user):
    mail = _mail(app)
    try:
        user = make_user(email="ann@example.org")
        assert 'href="/forgot-password"' in client.get("/sign-in").get_data(as_text=True)
        response = ask(client, "Ann@Example.org ")
        assert response.status_code == 303 and response.location.endswith("/sign-in")
        assert "we have sent it a link" in client.get("/sign-in").get_data(as_text=True)
        assert worker.run_pass().sent == 1
        (message,) = mail.to("ann@example.org")
        assert "new password" in message["Subject"]
        link = reset_link(mail, "ann@example.org")

        # another browser where Ann is still signed in with the old password
        other = app.test_client()
        sign_in(other, user)
        assert other.get("/account").status_code == 200

        page = client.get(link)
        assert page.status_code == 200 and "ann@example.org" in page.get_data(as_text=True)
        mismatch = post_form(client, link, {"password": NEW_PASSWORD, "confirm": "something else"}, token_page=link)
        assert mismatch.status_code == 400
        done = post_form(client, link, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}, token_page=link)
        assert done.status_code == 303 and done.location.endswith("/sign-in")

        # signed out everywhere; the old password no longer works, the new one does
        assert other.get("/account").status_code in (302, 401)
        assert post_form(app.test_client(), "/sign-in", {"email": user.email, "password": PASSWORD}).status_code == 401
        assert post_form(app.test_client(), "/sign-in", {"email": user.email, "password": NEW_PASSWORD}).status_code == 302
        # the link worked once
        assert client.get(link).status_code == 404
        assert "does not work" in client.get(link).get_data(as_text=True)
        actions = set(db.session.scalars(sa.select(AuditEntry.action).where(AuditEntry.subject_id == user.id)))
        assert {"user.password_reset_requested", "user.password_reset"} <= actions
    finally:
        mail.stop()


def test_an_unknown_address_gets_the_same_answer_and_no_email(app, client, make_user):
    make_user(email="ann@example.org")
    known, unknown = ask(client, "ann@example.org"), ask(app.test_client(), "nobody@example.org")
    assert (known.status_code, known.location) == (unknown.status_code, unknown.location)
    recipients = list(db.session.scalars(sa.select(OutboxEmail.recipient)))
    assert recipients == ["ann@example.org"]


def test_a_closed_account_gets_no_link(app, client, make_user):
    user = make_user(email="gone@example.org")
    user.is_active_account = False
    db.session.commit()
    assert ask(client, "gone@example.org").status_code == 303
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxEmail)) == 0


def test_an_expired_or_forged_link_does_not_work(app, client, make_user):
    user = make_user(email="ann@example.org")
    ask(client, "ann@example.org")
    body = db.session.scalar(sa.select(OutboxEmail.body_text))
    (link,) = re.findall(r"(/reset-password/\S+)", body)
    assert client.get(link).status_code == 200
    assert client.get(link[:-3] + "abc").status_code == 404  # signature broken
    assert client.get("/reset-password/" + "x" * 5000).status_code == 404  # absurdly long: no work
    app.config["PBVOTE_PASSWORD_RESET_MINUTES"] = -1  # every link is already older than this
    assert client.get(link).status_code == 404
    response = post_form(client, link, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}, token_page="/sign-in")
    assert response.status_code == 404
    db.session.refresh(user)
    assert user.check_password(PASSWORD)


def test_a_weak_new_password_is_refused_with_a_form_error(app, client, make_user):
    make_user(email="ann@example.org")
    ask(client, "ann@example.org")
    (link,) = re.findall(r"(/reset-password/\S+)", db.session.scalar(sa.select(OutboxEmail.body_text)))
    response = post_form(client, link, {"password": "short", "confirm": "short"}, token_page=link)
    assert response.status_code == 400 and "At least" in response.get_data(as_text=True)


def test_staff_never_see_the_link_in_the_outbox(app, client, make_user, login):
    make_user(email="ann@example.org")
    ask(client, "ann@example.org")
    email = db.session.scalar(sa.select(OutboxEmail))
    email.status, email.last_error, email.attempts = OutboxStatus.FAILED, "550 No such mailbox", 8
    db.session.commit()
    login(make_user("admin"))
    page = client.get("/staff/outbox").get_data(as_text=True)
    assert "private link: not shown" in page and "/reset-password/" not in page


def test_requests_are_rate_limited(app, client, make_user):
    app.config["PBVOTE_PASSWORD_RESET_LIMIT"] = "2 per minute"
    token = csrf_token(client, "/forgot-password")
    codes = [client.post("/forgot-password", data={"csrf_token": token, "email": f"x{i}@example.org"}).status_code
             for i in range(3)]
    assert codes == [303, 303, 429]


# -- confirming the e-mail address ---------------------------------------------------------------


def _sign_up(client, email="new@example.org"):
    return post_form(client, "/sign-up", {"display_name": "New Person", "email": email, "password": NEW_PASSWORD,
                                          "confirm": NEW_PASSWORD, "home_district": ""}, token_page="/sign-up")


def test_sign_up_sends_a_confirmation_link_and_emails_wait_for_it(app, client, make_user):
    """No notification e-mail goes to an address nobody has confirmed (a typo would mail a
    stranger); the app's own notifications are there meanwhile; the link confirms it."""
    from pbvote.auth.services import find_user_by_email
    from pbvote.notifications import services as notifications
    from pbvote.notifications.kinds import NotificationKind

    assert _sign_up(client).status_code == 302
    user = find_user_by_email("new@example.org")
    assert user.email_confirmed_at is None
    [email] = db.session.scalars(sa.select(OutboxEmail)).all()
    assert email.kind is None and "Confirm your e-mail address" in email.subject
    (link,) = re.findall(r"(/confirm-email/\S+)", email.body_text)
    page = client.get("/account").get_data(as_text=True)
    assert "Not confirmed yet" in page and "Send the link again" in page

    notifications.notify(user, NotificationKind.COAUTHOR_INVITED, "/my/proposals", proposal="P")
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxEmail)) == 1  # in the app only

    response = client.get(link)
    assert response.status_code == 302 and response.location.endswith("/account")
    db.session.refresh(user)
    assert user.email_confirmed_at is not None
    assert "Confirmed" in client.get("/account").get_data(as_text=True)
    assert client.get(link).status_code == 302  # twice is fine
    notifications.notify(user, NotificationKind.COAUTHOR_INVITED, "/my/proposals", proposal="P")
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxEmail)) == 2


def test_a_confirmation_link_for_an_old_address_or_forged_does_not_work(app, client):
    from pbvote.auth.services import find_user_by_email

    _sign_up(client, "old@example.org")
    (link,) = re.findall(r"(/confirm-email/\S+)", db.session.scalar(sa.select(OutboxEmail.body_text)))
    user = find_user_by_email("old@example.org")
    assert client.get(link[:-2] + "xx").status_code == 404
    user.email = "changed@example.org"
    db.session.commit()
    response = client.get(link)
    assert response.status_code == 404 and "does not work" in response.get_data(as_text=True)
    db.session.refresh(user)
    assert user.email_confirmed_at is None


def test_the_link_can_be_sent_again_from_the_account_page(app, client):
    _sign_up(client)
    response = post_form(client, "/account/confirm-email", {}, token_page="/account")
    assert response.status_code == 303
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxEmail)) == 2


def test_a_password_reset_confirms_the_address(app, client, make_user):
    user = make_user(email="ann@example.org", email_confirmed=False)
    ask(client, "ann@example.org")
    (link,) = re.findall(r"(/reset-password/\S+)", db.session.scalar(sa.select(OutboxEmail.body_text)))
    post_form(client, link, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}, token_page=link)
    db.session.refresh(user)
    assert user.email_confirmed_at is not None
