"""Paper ballot fixtures: a session in an open vote with two volunteers and printed sheets.

``paper(...)`` builds the scenario; services are called inside a request (their messages are
translated), and ``key(volunteer, sheet, line)`` keys one sheet as the entry screen would."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from pbvote.ballots import services as ballot_services
from pbvote.ballots.paper import services
from pbvote.cycles.models import PhaseKind
from pbvote.extensions import db


@pytest.fixture(autouse=True)
def _services_in_a_request(request_context):
    """Services speak to people (translated messages): give them a request's locale."""


@pytest.fixture
def paper(voting_budget, make_user):
    """``paper(ballot_type="approval", sheets=10, costs=[...], **budget_fields)`` → a namespace with
    budget, proposals (in printed order: ``projects``), cycle, session, staff, volunteers v1 v2 v3
    (v3 not assigned), batch and sheets."""

    def make(ballot_type="approval", sheets: int = 10, costs=(30_000_00, 40_000_00, 50_000_00, 20_000_00),
             cycle: dict | None = None, **budget_fields):
        budget, proposals = voting_budget(ballot_type, costs=costs, cycle=cycle, **budget_fields)
        c = budget.cycle
        staff = make_user("staff")
        v1, v2, v3 = make_user("volunteer"), make_user("volunteer"), make_user("volunteer")
        voting = c.phase(PhaseKind.VOTING)
        session = services.create_session(staff, c, place="Riverside Library", starts_at=voting.starts_at,
                                           ends_at=voting.starts_at.replace(hour=23, minute=0) if voting.starts_at.hour < 23
                                           else voting.ends_at, budgets=[budget], volunteers=[v1, v2])
        batch = services.generate_sheets(staff, session, budget, sheets)
        db.session.commit()
        return SimpleNamespace(budget=budget, proposals=proposals, projects=services.batch_projects(batch),
                               cycle=c, session=session, staff=staff, v1=v1, v2=v2, v3=v3, batch=batch,
                               sheets=services.batch_sheets(batch))

    return make


@pytest.fixture
def key():
    """``key(volunteer, session, serial, line)`` → EntryResult, committed (each keying its own token)."""

    def do_key(volunteer, session, serial, line, token=None):
        result = services.record_paper_entry(volunteer, session, serial, line,
                                             token or ballot_services.new_submission_token())
        db.session.commit()
        return result

    return do_key
