"""Issue 16, journey 4: forms that do not trap people."""
from __future__ import annotations

from datetime import timedelta

from pbvote.extensions import db
from pbvote.proposals.models import Proposal
from tests.conftest import count_rows, post_form
from tests.journeys.test_vote_and_receipt import links


def _move_all_phases(cycle, days: int) -> None:
    for phase in cycle.phases:
        phase.starts_at += timedelta(days=days)
        phase.ends_at += timedelta(days=days)
    db.session.commit()


def test_before_submissions_open_the_cycle_says_when_and_the_form_is_not_offered(client, login, make_user, make_cycle):
    cycle = make_cycle("submission")
    _move_all_phases(cycle, 10)  # submissions start in five days
    login(make_user())
    page = client.get(f"/cycles/{cycle.slug}").get_data(as_text=True)
    assert "Proposals can be made from" in page
    assert "Make a proposal" not in [text for _h, text in links(client.get(f"/cycles/{cycle.slug}"))]
    direct = client.get(f"/cycles/{cycle.slug}/proposals/new")
    body = direct.get_data(as_text=True)
    assert direct.status_code == 200 and "Proposals can be made from" in body and 'name="title"' not in body
    response = post_form(client, f"/cycles/{cycle.slug}/proposals/new", {"title": "x" * 20}, token_page="/")
    assert response.status_code == 409 and count_rows(Proposal) == 0


def test_after_submissions_close_the_form_says_they_ended(client, login, make_user, make_cycle):
    cycle = make_cycle("review")
    login(make_user())
    body = client.get(f"/cycles/{cycle.slug}/proposals/new").get_data(as_text=True)
    assert "The time for proposals ended on" in body and 'name="title"' not in body
