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


def test_a_frozen_budgets_rules_are_read_only_and_its_name_still_saves(client, login, make_user, voting_budget, cast):
    import re

    budget, proposals = voting_budget(ballot_type="knapsack")
    cast(make_user(verified=True), budget, [proposals[0]])
    login(make_user("staff"))
    page = client.get(f"/staff/budgets/{budget.id}")
    body = page.get_data(as_text=True)
    assert re.search(r'<input[^>]*name="total"[^>]*readonly', body)
    assert re.search(r'<select[^>]*name="ballot_type"[^>]*disabled|<select[^>]*disabled[^>]*name="ballot_type"', body)
    assert not re.search(r'<input[^>]*name="name"[^>]*readonly', body)
    form = dict(re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', body))
    form.update({"name": "City-wide (renamed)", "position": "0"})
    for name in ("tally_rule", "utility", "completion", "tie_break", "ballot_type", "district"):
        assert name in form or name == "district", name  # each disabled choice is sent alongside
    response = client.post(f"/staff/budgets/{budget.id}", data=form)
    assert response.status_code == 302, re.findall(r"class=\"error\"[^<]*<|role=\"alert\">\s*<p>[^<]*", response.get_data(as_text=True))
    db.session.expire_all()
    assert db.session.get(type(budget), budget.id).name == "City-wide (renamed)"


def test_merges_go_only_into_feasible_proposals_of_the_same_budget_and_the_target_shows_them(client, login, make_user, make_cycle, make_proposal):
    cycle = make_cycle("review", budgets=[{"name": "North", "total_amount": 100_000_00}, {"name": "South", "total_amount": 100_000_00}])
    north, south = cycle.budgets
    source = make_proposal(cycle, budget=north, status="submitted", title="Bench at the pond")
    feasible = make_proposal(cycle, budget=north, status="feasible", title="Pond park upgrade")
    make_proposal(cycle, budget=north, status="submitted", title="Submitted elsewhere")
    make_proposal(cycle, budget=south, status="feasible", title="Other budget park")
    login(make_user("reviewer"))
    body = client.get(f"/review/proposals/{source.id}").get_data(as_text=True)
    assert "Pond park upgrade" in body
    assert "Submitted elsewhere" not in body and "Other budget park" not in body
    response = post_form(client, f"/review/proposals/{source.id}",
                         {"decision": "merge", "target": str(feasible.id), "reason": "Same pond."}, token_page="/")
    assert response.status_code in (302, 303), response.status_code
    page = client.get(f"/proposals/{feasible.id}").get_data(as_text=True)
    assert "Merged into this proposal:" in page and "Bench at the pond" in page and "Same pond." in page


def test_times_are_shown_without_seconds_with_their_zone_in_the_visitors_language(app):
    from datetime import datetime

    from flask_babel import force_locale

    from pbvote.templating import datetime_format

    moment = datetime(2026, 12, 4, 19, 25, 8)
    with app.test_request_context("/"):
        assert datetime_format(moment) == "Dec 4, 2026, 7:25\u202fPM UTC" or datetime_format(moment) == "Dec 4, 2026, 7:25 PM UTC"
        with force_locale("pl"):
            assert datetime_format(moment) == "4 gru 2026, 19:25 UTC"
