import pytest


@pytest.fixture
def request_ctx(app):
    """Services translate their messages: give them a request (and so a locale) to do it in."""
    with app.test_request_context("/"):
        yield
