"""Voting tests call services inside a request (the factories ``voting_budget``, ``cast`` and
``code_for`` are in ``tests/conftest.py``)."""
from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _services_in_a_request(request_context):
    """Services speak to people (translated messages): give them a request's locale."""
