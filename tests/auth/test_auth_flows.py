"""Sign-up, sign-in, sign-out, password change, sessions, rate limits, redirects and CSRF."""
from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from conftest import CSRF_RE, PASSWORD, count_rows, csrf_token, post_form

from pbvote.audit import AuditEntry
from pbvote.auth.models import Role, User
from pbvote.auth.views import is_safe_next
from pbvote.extensions import db

GOOD = {"display_name": "Ana", "email": "Ana@Example.org", "password": "a long enough password", "confirm": "a long enough password"}


def test_sign_up_creates_hashed_account_and_signs_in(client, make_district):
    district = make_district("Riverside")
    response = post_form(client, "/sign-up", {**GOOD, "home_district": str(district.id)})
    assert response.status_code == 302
    user = db.session.scalar(sa.select(User))
    assert user.email == "ana@example.org"
    assert user.home_district_id == district.id
    assert user.role == Role.RESIDENT
    assert user.password_hash.startswith("scrypt:") and "a long enough password" not in user.password_hash
    assert client.get("/account").status_code == 200
    assert count_rows(AuditEntry, AuditEntry.action == "user.created") == 1


@pytest.mark.parametrize(
    "change, message",
    [
        ({"email": "not-an-address"}, "Invalid email address"),
        ({"password": "short", "confirm": "short"}, "between 10 and 256 characters"),
        ({"confirm": "something else entirely"}, "do not match"),
        ({"display_name": ""}, "This field is required"),
        ({"home_district": "999999"}, "Not a valid choice"),
        ({"home_district": "abc"}, "Invalid Choice"),
        ({"birth_year": "nineteen"}, "Not a valid integer value"),
        ({"birth_year": "1850"}, "Enter a year between 1900 and"),
        ({"birth_year": "2999"}, "Enter a year between 1900 and"),
    ],
)
def test_sign_up_rejects_bad_input_with_a_message(client, change, message):
    response = post_form(client, "/sign-up", {**GOOD, **change})
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert count_rows(User) == 0


def test_sign_up_keeps_an_optional_year_of_birth(client):
    response = post_form(client, "/sign-up", {**GOOD, "birth_year": "1990"})
    assert response.status_code == 302
    assert db.session.scalar(sa.select(User.birth_year)) == 1990


def test_account_details_can_be_changed_and_are_audited(client, make_user, login):
    user = make_user(name="Ana")
    login(user)
    page = client.get("/account").get_data(as_text=True)
    assert 'for="display_name"' in page and 'for="birth_year"' in page
    bad = post_form(client, "/account", {"display_name": "Ana B.", "birth_year": "1800"}, token_page="/account")
    assert bad.status_code == 400 and "Enter a year between 1900 and" in bad.get_data(as_text=True)
    db.session.refresh(user)
    assert (user.display_name, user.birth_year) == ("Ana", None)
    done = post_form(client, "/account", {"display_name": " Ana B. ", "birth_year": "1988"}, token_page="/account")
    assert done.status_code == 303
    db.session.refresh(user)
    assert (user.display_name, user.birth_year) == ("Ana B.", 1988)
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "user.details_changed"))
    assert entry.data["fields"] == ["birth_year", "display_name"]
    assert post_form(client, "/account", {"display_name": "", "birth_year": ""}, token_page="/account").status_code == 400
    cleared = post_form(client, "/account", {"display_name": "Ana B.", "birth_year": ""}, token_page="/account")
    assert cleared.status_code == 303
    db.session.refresh(user)
    assert user.birth_year is None


def test_sign_up_refuses_a_taken_address(client, make_user):
    make_user(email="ana@example.org")
    response = post_form(client, "/sign-up", GOOD)
    assert response.status_code == 400
    assert "already exists" in response.get_data(as_text=True)
    assert count_rows(User) == 1


def test_sign_up_refuses_password_equal_to_email(client):
    response = post_form(client, "/sign-up", {**GOOD, "email": "ana.long@example.org", "password": "ana.long@example.org", "confirm": "ana.long@example.org"})
    assert response.status_code == 400
    assert "must not be your e-mail" in response.get_data(as_text=True)


def test_sign_in_with_wrong_password_fails_without_saying_which(client, make_user):
    user = make_user()
    wrong = post_form(client, "/sign-in", {"email": user.email, "password": "not the password"})
    unknown = post_form(client, "/sign-in", {"email": "nobody@example.org", "password": "not the password"})
    for response in (wrong, unknown):
        assert response.status_code == 401
        assert "do not match an account" in response.get_data(as_text=True)
    assert client.get("/account").status_code == 302


def test_form_without_csrf_token_is_refused(client, make_user):
    user = make_user()
    response = client.post("/sign-in", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 400
    assert "form has expired" in response.get_data(as_text=True)
    assert client.get("/account").status_code == 302


def test_sign_out_ends_every_session_of_the_account(app, make_user, login, client):
    user = make_user()
    login(user)
    other = app.test_client()
    post_form(other, "/sign-in", {"email": user.email, "password": PASSWORD})
    assert other.get("/account").status_code == 200
    response = post_form(client, "/sign-out", {})
    assert response.status_code == 302
    assert client.get("/account").status_code == 302
    assert other.get("/account").status_code == 302  # the other device is signed out too


def test_sign_out_requires_post(client, make_user, login):
    login(make_user())
    assert client.get("/sign-out").status_code == 405
    assert client.get("/account").status_code == 200


def test_password_change_keeps_this_session_and_ends_others(app, make_user, login, client):
    user = make_user()
    login(user)
    other = app.test_client()
    post_form(other, "/sign-in", {"email": user.email, "password": PASSWORD})
    response = post_form(client, "/account/password", {"current_password": PASSWORD, "new_password": "a brand new password", "confirm": "a brand new password"})
    assert response.status_code == 302
    assert client.get("/account").status_code == 200
    assert other.get("/account").status_code == 302
    db.session.refresh(user)
    assert user.check_password("a brand new password")
    assert not user.check_password(PASSWORD)


def test_password_change_needs_the_current_password(client, make_user, login):
    user = make_user()
    login(user)
    response = post_form(client, "/account/password", {"current_password": "wrong one!!", "new_password": "a brand new password", "confirm": "a brand new password"})
    assert response.status_code == 400
    assert "current password is not correct" in response.get_data(as_text=True)
    db.session.refresh(user)
    assert user.check_password(PASSWORD)


def test_remember_me_is_ignored_for_staff(client, make_user):
    staff = make_user(role=Role.STAFF)
    response = post_form(client, "/sign-in", {"email": staff.email, "password": PASSWORD, "remember": "y"})
    assert response.status_code == 302
    cookies = " ".join(response.headers.getlist("Set-Cookie"))
    assert not re.search(r"pbvote_remember=[^;]", cookies)


def test_remember_me_works_for_residents(client, make_user):
    resident = make_user()
    response = post_form(client, "/sign-in", {"email": resident.email, "password": PASSWORD, "remember": "y"})
    cookies = " ".join(response.headers.getlist("Set-Cookie"))
    assert "pbvote_remember=" in cookies and "HttpOnly" in cookies and "SameSite=Lax" in cookies


@pytest.mark.parametrize(
    "target",
    ["https://evil.example/", "//evil.example/", "/\\evil.example", "http:/evil.example", "javascript:alert(1)", "\\\\evil", "/ok\r\nSet-Cookie: x=y"],
)
def test_sign_in_never_redirects_off_site(client, make_user, target):
    user = make_user()
    response = post_form(client, "/sign-in", {"email": user.email, "password": PASSWORD, "next": target})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_sign_in_follows_a_local_next(client, make_user):
    user = make_user()
    response = post_form(client, "/sign-in", {"email": user.email, "password": PASSWORD, "next": "/account"})
    assert response.headers["Location"] == "/account"


def test_is_safe_next():
    assert is_safe_next("/cycles/x?page=2")
    assert not is_safe_next("//x.org")
    assert not is_safe_next("https://x.org/")
    assert not is_safe_next(None)


def test_sign_in_is_rate_limited_per_account(app, client, make_user):
    user = make_user()
    for _ in range(5):
        assert post_form(client, "/sign-in", {"email": user.email, "password": "wrong password"}).status_code == 401
    response = post_form(client, "/sign-in", {"email": user.email, "password": PASSWORD})
    assert response.status_code == 429
    assert "Too many attempts" in response.get_data(as_text=True)
    # Another account from the same address is not blocked by this account's limit.
    other = make_user()
    assert post_form(client, "/sign-in", {"email": other.email, "password": PASSWORD}).status_code == 302


@pytest.mark.parametrize("app_config", [{"PBVOTE_SIGNIN_LIMIT_PER_ADDRESS": "3 per day"}])
def test_sign_in_is_rate_limited_per_address(client, make_user):
    users = [make_user() for _ in range(4)]
    token = csrf_token(client)
    statuses = [client.post("/sign-in", data={"email": u.email, "password": "wrong password", "csrf_token": token}).status_code for u in users]
    assert statuses == [401, 401, 401, 429]


def test_rate_limit_answers_json_to_api_clients(client, make_user):
    user = make_user()
    token = csrf_token(client)
    for _ in range(5):
        client.post("/sign-in", data={"email": user.email, "password": "wrong", "csrf_token": token})
    response = client.post("/sign-in", data={"email": user.email, "password": "wrong", "csrf_token": token}, headers={"Accept": "application/json"})
    assert response.status_code == 429
    assert response.get_json()["error"]["status"] == 429


def test_deactivated_account_cannot_sign_in(client, make_user):
    user = make_user()
    user.is_active_account = False
    db.session.commit()
    assert post_form(client, "/sign-in", {"email": user.email, "password": PASSWORD}).status_code == 401


def test_session_cookie_flags(client, make_user):
    user = make_user()
    response = post_form(client, "/sign-in", {"email": user.email, "password": PASSWORD})
    cookie = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("pbvote_session=")][0]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


@pytest.mark.parametrize("app_config", [{"SESSION_COOKIE_SECURE": True}])
def test_secure_cookie_when_configured(client, make_user):
    user = make_user()
    page = client.get("/sign-in", base_url="https://localhost")
    token = CSRF_RE.search(page.get_data(as_text=True)).group(1)
    response = client.post("/sign-in", data={"email": user.email, "password": PASSWORD, "csrf_token": token}, base_url="https://localhost")
    cookie = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("pbvote_session=")][0]
    assert "Secure" in cookie
