"""Voter-ballot links are forgotten when voting ends: by advancing the phase, or by `pbvote seal-ballots`."""
from __future__ import annotations

import sqlalchemy as sa
from conftest import count_rows

from pbvote.ballots.models import Ballot, Participation
from pbvote.cli import cli
from pbvote.cycles import services as cycle_services
from pbvote.cycles.models import Phase, PhaseKind
from pbvote.extensions import db
from pbvote.timeutil import utcnow


def linked_ballots() -> int:
    return count_rows(Ballot, Ballot.participation_id.is_not(None))


def test_advancing_out_of_voting_unlinks_ballots_but_keeps_participation(voting_budget, make_user, cast):
    budget, projects = voting_budget()
    for _ in range(3):
        cast(make_user(verified=True), budget, [projects[0]])
    assert linked_ballots() == 3
    cycle_services.advance_phase(make_user("staff"), budget.cycle)
    db.session.commit()
    assert linked_ballots() == 0
    assert count_rows(Ballot) == 3 and count_rows(Participation) == 3


def test_advancing_within_other_phases_keeps_links(voting_budget, make_user, cast):
    budget, projects = voting_budget()
    cast(make_user(verified=True), budget, [projects[0]])
    # Move the cycle back to review and advance from there into voting: voting has not ended.
    voting = budget.cycle.phase(PhaseKind.VOTING)
    review = budget.cycle.phase(PhaseKind.REVIEW)
    now = utcnow()
    review.ends_at = now.replace(microsecond=0) + (voting.ends_at - voting.starts_at)
    review.starts_at = now.replace(microsecond=0) - (voting.ends_at - voting.starts_at)
    voting.starts_at, voting.ends_at = review.ends_at, review.ends_at + (voting.ends_at - voting.starts_at)
    db.session.commit()
    cycle_services.advance_phase(make_user("staff"), budget.cycle)
    db.session.commit()
    assert linked_ballots() == 1


def test_seal_ballots_command_seals_only_closed_cycles(app, voting_budget, make_user, cast):
    open_budget, open_projects = voting_budget()
    closed_budget, closed_projects = voting_budget()
    cast(make_user(verified=True), open_budget, [open_projects[0]])
    cast(make_user(verified=True), closed_budget, [closed_projects[0]])
    voting = db.session.scalar(sa.select(Phase).where(Phase.cycle_id == closed_budget.cycle_id, Phase.kind == PhaseKind.VOTING))
    voting.ends_at = utcnow().replace(microsecond=0)
    db.session.commit()
    runner = app.test_cli_runner()
    result = runner.invoke(cli, ["seal-ballots"])
    assert result.exit_code == 0, result.output
    assert "Sealed 1 ballots in 1 closed cycle(s)." in result.output
    assert count_rows(Ballot, Ballot.budget_id == closed_budget.id, Ballot.participation_id.is_(None)) == 1
    assert count_rows(Ballot, Ballot.budget_id == open_budget.id, Ballot.participation_id.is_not(None)) == 1
    again = runner.invoke(cli, ["seal-ballots"])
    assert "Sealed 0 ballots in 0 closed cycle(s)." in again.output
