"""Receipts, the public list of counted ballots, and the anonymised export."""
from __future__ import annotations

from datetime import timedelta

from conftest import csrf_token

from pbvote.ballots import services
from pbvote.cycles.models import PhaseKind
from pbvote.extensions import db


def _open_results(cycle):
    """Move the cycle on: voting closed a minute ago, results published."""
    from pbvote.timeutil import utcnow

    now = utcnow()
    voting, results = cycle.phase(PhaseKind.VOTING), cycle.phase(PhaseKind.RESULTS)
    voting.ends_at = now - timedelta(minutes=1)
    results.starts_at = now - timedelta(minutes=1)
    db.session.commit()


def test_counted_list_appears_with_the_results_and_shows_no_contents(client, voting_budget, make_user, cast):
    budget, ps = voting_budget(cycle={"allow_vote_change": True})
    user = make_user(verified=True)
    old = cast(user, budget, [ps[0]])
    new = cast(user, budget, [ps[1]])
    path = f"/cycles/{budget.cycle.slug}/counted-ballots"
    before = client.get(path).get_data(as_text=True)
    assert "published with the results" in before and new.ballot.tracking_hash not in before

    _open_results(budget.cycle)
    text = client.get(path).get_data(as_text=True)
    assert new.ballot.tracking_hash in text and old.ballot.tracking_hash not in text
    assert ps[1].title not in text
    # Its checker is "Check your ballot" (rate-limited, answered with a redirect), which then
    # names the fingerprint to find in the list.
    assert 'action="/receipts/check"' in text and 'name="tracking_code"' in text
    assert client.post(path).status_code == 405
    token = csrf_token(client, path)
    checked = client.post("/receipts/check", data={"csrf_token": token, "tracking_code": services.format_code(new.tracking_code)})
    assert checked.status_code == 303
    answer = client.get(checked.location).get_data(as_text=True)
    assert "is counted" in answer and new.ballot.tracking_hash in answer and path in answer
    client.post("/receipts/check", data={"csrf_token": token, "tracking_code": old.tracking_code})
    answer = client.get("/receipts/check").get_data(as_text=True)
    assert "was replaced by a later ballot" in answer and old.ballot.tracking_hash not in answer
    client.post("/receipts/check", data={"csrf_token": token, "tracking_code": "NOT-A-CODE"})
    assert "No ballot has the tracking code" in client.get("/receipts/check").get_data(as_text=True)


def test_the_check_names_no_fingerprint_before_the_list_is_published(client, voting_budget, make_user, cast):
    budget, ps = voting_budget()
    result = cast(make_user(verified=True), budget, [ps[0]])
    token = csrf_token(client, "/receipts/check")
    client.post("/receipts/check", data={"csrf_token": token, "tracking_code": result.tracking_code})
    answer = client.get("/receipts/check").get_data(as_text=True)
    assert "is counted" in answer and result.ballot.tracking_hash not in answer


def test_anonymised_export_only_after_voting_and_without_voters(client, voting_budget, make_user, login, cast):
    budget, ps = voting_budget()
    voter = make_user(verified=True, name="Very Unique Name")
    cast(voter, budget, [ps[0], ps[1]])
    login(make_user("staff"))
    path = f"/staff/cycles/{budget.cycle.slug}/ballots.csv"
    assert client.get(path).status_code == 409
    _open_results(budget.cycle)
    response = client.get(path)
    text = response.get_data(as_text=True)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    header, row = text.strip().splitlines()
    assert header == "budget,tracking_hash,channel,date,state,choices"
    assert f"{ps[0].id} {ps[1].id}" in row and ",counted," in row
    assert voter.email not in text and "Very Unique Name" not in text and ":" not in row.split(",")[3]
