"""Rate limits shared through Redis, as with several app servers behind a load balancer."""
from __future__ import annotations

import socket
import uuid

import pytest
from conftest import post_form

from pbvote import create_app
from pbvote.extensions import db


def redis_reachable() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture
def app_config():
    if not redis_reachable():
        pytest.skip("Redis: not reachable on 127.0.0.1:6379")
    return {"RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/0", "RATELIMIT_KEY_PREFIX": f"pbvote-test-{uuid.uuid4().hex}"}


def test_a_second_app_server_sees_the_first_ones_sign_in_failures(app, make_user):
    """Failed attempts on server A and then on server B (a new app, same Redis) count together.

    With per-process memory storage the second server would start from zero and answer 401.
    """
    user = make_user()
    server_a = app.test_client()
    first = [post_form(server_a, "/sign-in", {"email": user.email, "password": "wrong password"}).status_code for _ in range(3)]
    server_b_app = create_app(dict(app.config))
    server_b_app.test_client_class = type(server_a)
    server_b = server_b_app.test_client()
    later = [post_form(server_b, "/sign-in", {"email": user.email, "password": "wrong password"}).status_code for _ in range(3)]
    with server_b_app.app_context():
        db.engine.dispose()
    assert first + later == [401] * 5 + [429]
