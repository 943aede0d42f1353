"""notify(): both rows in the caller's transaction, as each person chose, never to the actor."""
from __future__ import annotations

import logging

import pytest
import sqlalchemy as sa
from conftest import count_rows

from pbvote.extensions import db
from pbvote.notifications import services
from pbvote.notifications.kinds import KINDS, NotificationKind, render_message
from pbvote.notifications.links import link_to
from pbvote.notifications.models import Notification, NotificationPreference, OutboxEmail, OutboxStatus
from pbvote.notifications.services import Channels

INVITED = NotificationKind.COAUTHOR_INVITED

#: Parameters each kind's callers give, and a phrase of the in-app text they make.
SAMPLES = {
    NotificationKind.COAUTHOR_INVITED: ({"proposal": "Benches on Elm Square"},
                                        "Ann invited you to co-author “Benches on Elm Square”."),
    NotificationKind.COMMENT_REPLY: ({"proposal": "Benches on Elm Square", "excerpt": "Good idea, and shade too?"},
                                     "Ann replied to your comment on “Benches on Elm Square”."),
    NotificationKind.PROPOSAL_REVIEWED: ({"proposal": "Benches on Elm Square", "outcome": "feasible",
                                          "final_amount": 1_250_000, "currency": "EUR", "explanation": ""},
                                         "it is feasible, at a final cost of €12,500."),
    NotificationKind.VOTING_OPENED: ({"cycle": "Greenhill 2027", "closes_at": "2027-05-31T22:00:00"},
                                     "Voting has opened in “Greenhill 2027”."),
    NotificationKind.RESULTS_PUBLISHED: ({"cycle": "Greenhill 2027"}, "The results of “Greenhill 2027” are published."),
}


def test_every_kind_has_a_sample_here():
    assert set(SAMPLES) == set(KINDS) == set(NotificationKind)


@pytest.mark.parametrize("kind", list(NotificationKind), ids=lambda k: k.value)
def test_each_kind_writes_its_message_and_its_email(app, request_context, make_user, base_url, kind):
    params, phrase = SAMPLES[kind]
    actor = make_user(name="Ann")
    reader = make_user(name="Bob", email="bob@example.org")
    services.set_preferences(reader, {kind: Channels(in_app=True, email=True)})  # whatever the default
    assert services.notify(reader, kind, "/proposals/7", actor=actor, **params)
    db.session.commit()
    notification = db.session.scalar(sa.select(Notification))
    assert notification.user_id == reader.id and notification.kind == kind and notification.actor_id == actor.id
    assert notification.link == "/proposals/7" and notification.read_at is None
    assert phrase in render_message(notification.kind, notification.params)
    email = db.session.scalar(sa.select(OutboxEmail))
    assert email.recipient == "bob@example.org" and email.status == OutboxStatus.PENDING and email.attempts == 0
    assert email.subject.startswith("[Greenhill Budget] ")
    assert email.body_text.startswith("Hello Bob,\n\n")
    assert "https://budget.example.org/proposals/7" in email.body_text
    assert "https://budget.example.org/account/notifications" in email.body_text
    assert "…" not in email.body_text and "…" not in email.subject  # every parameter was found
    assert "\n\n\n" not in email.body_text


def test_review_outcomes_read_differently(app, request_context):
    base = {"proposal": "Benches"}
    assert "cannot be done" in render_message(NotificationKind.PROPOSAL_REVIEWED, {**base, "outcome": "unfeasible"})
    assert "merged into “Shade”" in render_message(NotificationKind.PROPOSAL_REVIEWED,
                                                  {**base, "outcome": "merged", "target": "Shade"})


def test_a_missing_parameter_reads_as_an_ellipsis_not_an_error(app, request_context):
    assert render_message(NotificationKind.COAUTHOR_INVITED, {}) == "… invited you to co-author “…”."


def test_defaults_apply_without_a_choice(app, make_user):
    reader = make_user()
    services.notify(reader, NotificationKind.COMMENT_REPLY, "/proposals/1", proposal="P", excerpt="x")
    services.notify(reader, INVITED, "/my/proposals", proposal="P")
    db.session.commit()
    # replies: in the app only; invitations: in the app and by e-mail
    assert count_rows(Notification) == 2
    assert [e.kind for e in db.session.scalars(sa.select(OutboxEmail))] == [INVITED]
    assert services.preferences_of(reader)[NotificationKind.COMMENT_REPLY] == Channels(in_app=True, email=False)


def test_choices_decide_each_channel(app, make_user):
    email_only, in_app_only, neither = make_user(), make_user(), make_user()
    services.set_preferences(email_only, {INVITED: Channels(in_app=False, email=True)})
    services.set_preferences(in_app_only, {INVITED: Channels(in_app=True, email=False)})
    services.set_preferences(neither, {INVITED: Channels(in_app=False, email=False)})
    told = [services.notify(user, INVITED, "/my/proposals", proposal="P") for user in (email_only, in_app_only, neither)]
    db.session.commit()
    assert told == [True, True, False]
    assert list(db.session.scalars(sa.select(Notification.user_id))) == [in_app_only.id]
    assert list(db.session.scalars(sa.select(OutboxEmail.user_id))) == [email_only.id]


def test_setting_preferences_stores_only_changes_and_audits_them(app, make_user):
    from pbvote.audit import AuditEntry

    user = make_user()
    assert services.set_preferences(user, {kind: services.default_channels(kind) for kind in KINDS}) == []
    assert count_rows(NotificationPreference) == 0
    changed = services.set_preferences(user, {NotificationKind.VOTING_OPENED: Channels(in_app=True, email=False)})
    db.session.commit()
    assert changed == [NotificationKind.VOTING_OPENED] and count_rows(NotificationPreference) == 1
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "notifications.preferences_changed"))
    assert entry.data == {"voting_opened": {"in_app": True, "email": False}}
    # changing it back keeps the row (a choice that happens to equal the default)
    services.set_preferences(user, {NotificationKind.VOTING_OPENED: Channels(in_app=True, email=True)})
    db.session.commit()
    assert services.preferences_of(user)[NotificationKind.VOTING_OPENED] == Channels(True, True)


def test_nobody_is_told_about_their_own_action(app, make_user):
    actor = make_user()
    assert services.notify(actor, INVITED, "/my/proposals", actor=actor, proposal="P") is False
    assert services.deliver([actor, make_user()], INVITED, "/my/proposals", actor=actor, params={"proposal": "P"}) == 1
    db.session.commit()
    assert actor.id not in set(db.session.scalars(sa.select(Notification.user_id)))


def test_closed_accounts_and_repeats_are_left_out(app, make_user):
    closed, reader = make_user(), make_user()
    closed.is_active_account = False
    db.session.commit()
    assert services.deliver([closed, reader, reader, None], INVITED, "/my/proposals", params={"proposal": "P"}) == 1
    db.session.commit()
    assert count_rows(Notification) == 1 and count_rows(OutboxEmail) == 1


def test_rows_are_written_in_the_callers_transaction(app, make_user):
    reader = make_user()
    services.notify(reader, INVITED, "/my/proposals", proposal="P")
    db.session.rollback()  # the change that caused it was not stored: neither is its notification
    assert count_rows(Notification) == 0 and count_rows(OutboxEmail) == 0


def test_parameters_must_be_text_numbers_or_dates(app, make_user):
    with pytest.raises(TypeError, match="not User"):
        services.notify(make_user(), INVITED, "/my/proposals", proposal=make_user())


@pytest.mark.parametrize("link", ["https://evil.example/", "//evil.example/", "/\\evil.example", "proposals/1",
                                  "/" + "x" * 500])
def test_links_are_paths_of_this_site(app, make_user, link):
    with pytest.raises(ValueError):
        services.notify(make_user(), INVITED, link, proposal="P")


def test_link_to_builds_paths_outside_a_request(app):
    assert link_to("proposals.show", proposal_id=12, _anchor="comment-3") == "/proposals/12#comment-3"
    assert link_to("notifications.preferences") == "/account/notifications"


def test_without_a_base_url_links_in_emails_are_relative_and_the_log_says_so(app, make_user, caplog):
    app.config["PBVOTE_BASE_URL"] = None
    with caplog.at_level(logging.WARNING, logger="pbvote.notifications.links"):
        services.notify(make_user(), INVITED, "/my/proposals", proposal="P")
        services.notify(make_user(), INVITED, "/my/proposals", proposal="P")
    db.session.commit()
    body = db.session.scalars(sa.select(OutboxEmail.body_text)).first()
    assert "\n/my/proposals\n" in body
    warnings = [r for r in caplog.records if "PBVOTE_BASE_URL is not set" in r.getMessage()]
    assert len(warnings) == 1  # once per app, not once per e-mail


def test_an_email_subject_stays_on_one_line(app, make_user):
    services.notify(make_user(), INVITED, "/my/proposals", proposal="Benches\r\nBcc: everyone@example.org")
    db.session.commit()
    subject = db.session.scalar(sa.select(OutboxEmail.subject))
    assert "\n" not in subject and "\r" not in subject and "Benches Bcc:" in subject


def test_emails_are_written_in_the_default_language_even_in_a_request_in_another(app, make_user):
    reader = make_user(name="Bob")  # no language chosen on the account (tests/test_i18n.py: one who chose)
    with app.test_request_context("/", headers={"Accept-Language": "pl"}):
        services.notify(reader, INVITED, "/my/proposals", proposal="P")
    db.session.commit()
    assert db.session.scalar(sa.select(OutboxEmail.body_text)).startswith("Hello Bob,")


def test_reading_unread_first_one_and_all(app, make_user):
    reader, other = make_user(), make_user()
    for title in ("first", "second", "third"):
        services.notify(reader, INVITED, "/my/proposals", proposal=title)
    services.notify(other, INVITED, "/my/proposals", proposal="theirs")
    db.session.commit()
    first = db.session.scalar(sa.select(Notification).where(Notification.params["proposal"].as_string() == "first"))
    services.mark_read(reader, first)
    db.session.commit()
    assert services.unread_count(reader) == 2
    listed = db.session.scalars(services.notifications_statement(reader)).all()
    assert [n.params["proposal"] for n in listed][-1] == "first" and len(listed) == 3
    with pytest.raises(services.NotAllowed):
        services.mark_read(other, first)
    assert services.mark_all_read(reader) == 2
    db.session.commit()
    assert services.unread_count(reader) == 0 and services.unread_count(other) == 1


def test_staff_can_send_a_given_up_email_again(app, make_user):
    staff, resident = make_user("staff"), make_user()
    services.notify(resident, INVITED, "/my/proposals", proposal="P")
    db.session.commit()
    email = db.session.scalar(sa.select(OutboxEmail))
    with pytest.raises(services.Conflict):
        services.requeue_email(staff, email)  # not given up (yet)
    email.status, email.attempts, email.last_error = OutboxStatus.FAILED, 10, "SMTPDataError: 554 no"
    db.session.commit()
    with pytest.raises(services.NotAllowed):
        services.requeue_email(resident, email)
    services.requeue_email(staff, email)
    db.session.commit()
    assert email.status == OutboxStatus.PENDING and email.attempts == 0
    assert services.outbox_counts() == {"pending": 0, "retrying": 0, "failed": 0, "sent": 0} | {"pending": 1}
