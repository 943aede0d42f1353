"""Roles: the decorator, the admin page and the role service."""
from __future__ import annotations

import pytest
from conftest import post_form

from pbvote.auth import services
from pbvote.auth.models import Role
from pbvote.errors import Conflict, NotAllowed
from pbvote.extensions import db


def test_role_required_sends_anonymous_to_sign_in(client):
    response = client.get("/admin/users")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/sign-in?next=")


@pytest.mark.parametrize("role", [Role.RESIDENT, Role.VOLUNTEER, Role.STAFF])
def test_non_admins_get_403_on_the_admin_page(client, make_user, login, role):
    login(make_user(role=role))
    response = client.get("/admin/users")
    assert response.status_code == 403
    assert "Not allowed" in response.get_data(as_text=True)


def test_admin_grants_a_role(client, make_user, login):
    admin = make_user(role=Role.ADMIN)
    resident = make_user(name="Rosa Resident")
    login(admin)
    page = client.get("/admin/users?q=rosa")
    assert page.status_code == 200 and "Rosa Resident" in page.get_data(as_text=True)
    response = post_form(client, f"/admin/users/{resident.id}/role", {f"u{resident.id}-role": "volunteer"}, token_page="/admin/users")
    assert response.status_code == 303
    db.session.refresh(resident)
    assert resident.role == Role.VOLUNTEER


def test_admin_role_form_rejects_unknown_role(client, make_user, login):
    admin = make_user(role=Role.ADMIN)
    resident = make_user()
    login(admin)
    post_form(client, f"/admin/users/{resident.id}/role", {f"u{resident.id}-role": "emperor"})
    db.session.refresh(resident)
    assert resident.role == Role.RESIDENT


def test_resident_cannot_grant_roles_by_posting(client, make_user, login):
    resident = make_user()
    login(resident)
    response = post_form(client, f"/admin/users/{resident.id}/role", {f"u{resident.id}-role": "admin"})
    assert response.status_code == 403
    db.session.refresh(resident)
    assert resident.role == Role.RESIDENT


def test_last_admin_cannot_step_down(make_user):
    admin = make_user(role=Role.ADMIN)
    with pytest.raises(Conflict):
        services.grant_role(admin, admin, Role.RESIDENT)
    other = make_user(role=Role.ADMIN)
    services.grant_role(admin, admin, Role.RESIDENT)
    assert admin.role == Role.RESIDENT and other.role == Role.ADMIN


def test_only_admins_grant_roles(make_user):
    staff = make_user(role=Role.STAFF)
    with pytest.raises(NotAllowed):
        services.grant_role(staff, make_user(), Role.STAFF)


def test_staff_holds_volunteer_reviewer_and_moderator_abilities(make_user):
    staff = make_user(role=Role.STAFF)
    assert staff.has_role(Role.VOLUNTEER) and staff.has_role(Role.REVIEWER) and staff.has_role(Role.MODERATOR)
    assert not staff.has_role(Role.ADMIN)
    volunteer = make_user(role=Role.VOLUNTEER)
    assert not volunteer.has_role(Role.STAFF)
