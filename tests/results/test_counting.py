"""Counting a budget fast (plain rows, a cache) and counting it the straightforward way agree.

:mod:`pbvote.results.counting` reads the countable ballots as distinct plain rows and keeps the
counted election per budget; these tests hold it equal to the ORM path on random elections of every
ballot type and on real pabulib files, and check that the cache follows every change of the
countable ballots after voting has closed (paper keyed late, a void, a correction).
"""
from __future__ import annotations

import random
from datetime import timedelta

import pytest

from pbvote import tally
from pbvote.ballots import services as ballot_services
from pbvote.ballots.kinds import kind_of
from pbvote.ballots.models import Ballot, BallotChannel
from pbvote.ballots.services import Choice, Voter
from pbvote.cycles.models import BallotType, PhaseKind
from pbvote.extensions import db
from pbvote.proposals.models import ProposalStatus
from pbvote.proposals.services import ballot_proposals
from pbvote.results import counting
from pbvote.results import publication as publishing
from pbvote.results import services as results
from pbvote.results.importer import import_pabulib
from pbvote.templating import money
from pbvote.timeutil import utcnow
from tests.results.test_public_and_import import pabulib_file

SETTINGS = {
    BallotType.APPROVAL: {"max_choices": 4},
    BallotType.KNAPSACK: {},
    BallotType.CHOOSE_ONE: {"max_choices": 1},
    BallotType.CUMULATIVE: {"points_total": 10, "points_per_project": 6},
    BallotType.RANKING: {"max_choices": 4},
}


def close_voting(cycle):
    cycle.phase(PhaseKind.VOTING).ends_at = utcnow() - timedelta(seconds=1)
    db.session.commit()


def outcomes(election: tally.Election) -> list:
    """What every preview rule makes of ``election``: funded set, order, scores, reasons."""
    runs = [("greedy", {})] + [(rule, params) for _label, rule, params in results.ALTERNATIVES]
    return [
        (o.selected, o.total_cost, [(p.id, p.score, p.selected, p.reason) for p in o.projects], o.satisfaction)
        for o in (tally.run_rule(election, rule, **params) for rule, params in runs)
    ]


@pytest.mark.parametrize("ballot_type", list(SETTINGS), ids=lambda t: t.value)
def test_fast_path_equals_the_orm_path_on_random_elections(make_cycle, make_proposal, make_user, request_context,
                                                          ballot_type):
    """Random voters of every ballot type, with changed votes, voided ballots, paper ballots and a
    project taken off the ballot after the vote: the plain-row election is the ORM one, exactly."""
    rng = random.Random(ballot_type.value)
    cycle = make_cycle("voting", budgets=[{"name": "City", "total_amount": 150_000_00, "ballot_type": ballot_type,
                                           "min_choices": 1, **SETTINGS[ballot_type]}])
    budget = cycle.budgets[0]
    proposals = [make_proposal(cycle, cost=rng.randrange(5, 90) * 1_000_00, budget=budget) for _ in range(7)]
    kind = kind_of(budget)
    on_ballot = ballot_proposals(budget)
    staff = make_user("staff")
    casts = []
    for i in range(36):
        user = make_user(verified=True)
        for _change in range(1 + (i % 5 == 0)):  # every fifth voter changes their vote
            choices = kind.sample(rng, budget, on_ballot)
            casts.append(ballot_services.cast_ballot(Voter(user=user), budget, choices,
                                                     ballot_services.new_submission_token()))
            db.session.commit()
    for i in range(4):
        ballot_services.cast_paper_ballot(budget, kind.sample(rng, budget, on_ballot), serial=f"P-{i}", clerk=staff,
                                          cast_at=utcnow())
    for victim in rng.sample([c.ballot for c in casts if c.ballot.superseded_at is None], 3):
        ballot_services.void_ballot(staff, victim, "Cast with a stolen code")
    db.session.commit()
    proposals[0].status = ProposalStatus.UNFEASIBLE  # off the ballot: its choices no longer count
    proposals[0].review_reason = "Found unbuildable after the vote."
    db.session.commit()
    close_voting(cycle)

    fast = results.election_for_budget(budget)
    plain = results.election_for_budget(budget, plain=True)
    assert fast == plain
    assert sum(b.weight for b in fast.ballots) == len([b for b in ballot_services.countable_ballots(budget)
                                                        if any(c.proposal_id != proposals[0].id for c in b.choices)])
    assert str(proposals[0].id) not in {pid for b in fast.ballots for pid in b.projects}
    assert outcomes(results.counting_election(fast)[0]) == outcomes(results.counting_election(plain)[0])
    previews = results.preview_budget(budget)
    plain_counted = results.counting_election(plain)[0]
    for preview in previews:
        expected = tally.run_rule(plain_counted, preview.rule, **preview.parameters)
        assert preview.outcome.selected == expected.selected


@pytest.mark.parametrize("name", [
    "Poland_Swiecie_2023.pb",  # approval, MES + add1
    "Poland_Czestochowa_2024_Lisiniec.pb",  # cumulative
    "Switzerland_Zurich_S5R.pb",  # ordinal
    "US_Stanford_Dataset_PB_Cambridge_2015_vote_knapsacks.pb",  # knapsack
])
def test_fast_path_equals_the_orm_path_on_a_real_file(app, request_context, name):
    imported = import_pabulib(pabulib_file(name))
    db.session.commit()
    budget = imported.budget
    fast = results.election_for_budget(budget)
    plain = results.election_for_budget(budget, plain=True)
    assert fast == plain and sum(b.weight for b in fast.ballots) == imported.ballots
    assert outcomes(results.counting_election(fast)[0]) == outcomes(results.counting_election(plain)[0])
    own = results.preview_budget(budget)[0]
    published = {str(p.proposal_id) for p in imported.publication.projects if p.funded}
    assert own.is_budget_rule and set(own.outcome.selected) == published


@pytest.fixture
def closed(make_cycle, make_proposal, make_user, request_context):
    """A closed approval vote: four projects, six online ballots; a staff member."""
    cycle = make_cycle("voting", budgets=[{"name": "City", "total_amount": 100_000_00, "min_choices": 1,
                                           "tally_params": {"tie_break": "equalshares"}}])
    budget = cycle.budgets[0]
    a, b, c, d = (make_proposal(cycle, cost=cost, budget=budget) for cost in (60_000_00, 50_000_00, 40_000_00, 30_000_00))
    for chosen in ([a, c], [a, c], [a], [b, d], [d], [b]):
        ballot_services.cast_ballot(Voter(user=make_user(verified=True)), budget, [Choice(p.id) for p in chosen],
                                    ballot_services.new_submission_token())
        db.session.commit()
    close_voting(cycle)
    return budget, (a, b, c, d), make_user("staff")


def scores(budget) -> dict[str, int]:
    return {p.id: p.score for p in results.preview_budget(budget)[0].outcome.projects}


def test_the_counted_election_is_kept_while_the_ballots_are_unchanged(closed, monkeypatch):
    budget, _projects, _staff = closed
    first = counting.counted_election(budget)
    reads = []
    monkeypatch.setattr(counting, "countable_ballot_contents",
                        lambda b: reads.append(b) or ballot_services.countable_ballot_contents(b))
    again = counting.counted_election(budget)
    assert again[0] is first[0] and reads == []  # served from the cache: no ballot read
    assert counting.counted_election(budget, fresh=True)[0] == first[0] and len(reads) == 1
    assert counting.counted_election(budget, fresh=True)[0] is not first[0] and len(reads) == 2


def test_paper_ballots_keyed_after_close_reach_the_preview(closed):
    budget, (a, b, c, d), staff = closed
    before = scores(budget)
    ballot_services.cast_paper_ballot(budget, [Choice(b.id), Choice(c.id)], serial="S-1", clerk=staff, cast_at=utcnow())
    db.session.commit()
    after = scores(budget)
    assert after[str(b.id)] == before[str(b.id)] + 1 and after[str(c.id)] == before[str(c.id)] + 1
    assert results.preview_budget(budget)[0].outcome.satisfaction.voters == 7


def test_a_void_and_a_correction_after_close_reach_the_preview(closed):
    budget, (a, b, c, d), staff = closed
    before = scores(budget)
    victim = next(ballot for ballot in ballot_services.countable_ballots(budget)
                  if {choice.proposal_id for choice in ballot.choices} == {a.id})
    ballot_services.void_ballot(staff, victim, "Cast under pressure")
    db.session.commit()
    assert scores(budget)[str(a.id)] == before[str(a.id)] - 1
    # a correction: one ballot voided and its replacement added, the count unchanged
    paper = ballot_services.cast_paper_ballot(budget, [Choice(d.id)], serial="S-2", clerk=staff, cast_at=utcnow())
    db.session.commit()
    assert scores(budget)[str(d.id)] == before[str(d.id)] + 1
    count = len(list(ballot_services.countable_ballots(budget)))
    ballot_services.void_ballot(staff, db.session.get(Ballot, paper), "Sheet S-2 corrected: the tick is on C")
    ballot_services.cast_paper_ballot(budget, [Choice(c.id)], serial="S-2", clerk=staff, cast_at=utcnow())
    db.session.commit()
    assert len(list(ballot_services.countable_ballots(budget))) == count
    corrected = scores(budget)
    assert corrected[str(d.id)] == before[str(d.id)] and corrected[str(c.id)] == before[str(c.id)] + 1


def test_publishing_reads_the_ballots_afresh(closed):
    """A published result never rests on the cache: even a (wrongly) stale cached election is not used."""
    budget, (a, b, c, d), staff = closed
    election, factor = counting.counted_election(budget)
    cache = counting._cache()
    (key,) = [k for k in cache if k[0] == budget.id]
    cache[key] = (tally.Election(budget=election.budget, projects=election.projects,
                                 ballots=(tally.Ballot((str(b.id),), weight=99),), meta=election.meta), factor)
    published = publishing.publish_result(budget, staff)
    assert published.ballot_count == 6
    assert counting.counted_election(budget)[0] == election  # and the cache holds the real ballots again


def test_the_budgets_rule_runs_once_when_an_alternative_repeats_it(closed, monkeypatch):
    budget, _projects, _staff = closed
    budget.tally_params = {"tie_break": "equalshares"}  # = the "Greedy (most votes first)" alternative
    db.session.commit()
    runs = []
    original = tally.run_rule
    monkeypatch.setattr(results.tally, "run_rule",
                        lambda election, rule, **params: runs.append(rule) or original(election, rule, **params))
    previews = results.preview_budget(budget)
    assert [p.rule for p in previews] == ["greedy", "greedy", "mes", "knapsack", "phragmen"]
    assert runs == ["greedy", "mes", "knapsack", "phragmen"]
    assert previews[0].outcome is previews[1].outcome and previews[0].is_budget_rule and not previews[1].is_budget_rule


def test_staff_preview_of_lodz_2022_shows_currency_amounts_and_votes(app, client, login, make_user, request_context):
    """Łódź 2022 imported (90,494 ballots): the staff preview renders, with the city's own result,
    costs and totals in złoty (not grosze), and each project's votes."""
    imported = import_pabulib(pabulib_file("Poland_Lodz_2022.pb"))
    db.session.commit()
    budget = imported.budget
    login(make_user("staff"))
    response = client.get(f"/staff/budgets/{budget.id}/results")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    by_title = {p.title: p for p in ballot_proposals(budget)}
    first = by_title["Strefa21 - boisko wielofunkcyjne i skwer wypoczynkowy przy Kopernika 2"]
    assert first.ballot_amount == 1_603_000_00
    assert money(first.ballot_amount, "PLN") in page and "PLN" in money(first.ballot_amount, "PLN")
    assert "160,300,000" not in page  # the cost in grosze
    assert "16,904" in page  # its votes
    assert money(budget.total_amount, "PLN") in page
    own = results.preview_budget(budget)[0]
    assert money(own.total_amount, "PLN") in page
    assert {str(p.proposal_id) for p in imported.publication.projects if p.funded} == set(own.outcome.selected)


def test_turnout_counts_online_kiosk_and_paper_ballots_per_district(make_cycle, make_district, make_proposal, make_user,
                                                                    code_for, client, request_context):
    """The public results page's turnout: a ballot cast with a letter's access code counts as
    online, one cast at a session's kiosk in its own row, paper apart; voided and superseded
    ballots not at all; per district budget."""
    north, south = make_district("North"), make_district("South")
    cycle = make_cycle("voting", budgets=[
        {"name": "North budget", "total_amount": 100_000_00, "min_choices": 1, "district_id": north.id},
        {"name": "South budget", "total_amount": 100_000_00, "min_choices": 1, "district_id": south.id},
    ])
    north_budget, south_budget = cycle.budgets
    staff = make_user("staff")
    project = {budget.id: make_proposal(cycle, cost=40_000_00, budget=budget) for budget in cycle.budgets}

    def vote(voter, budget, channel=BallotChannel.ONLINE):
        result = ballot_services.cast_ballot(voter, budget, [Choice(project[budget.id].id)],
                                             ballot_services.new_submission_token(), channel=channel)
        db.session.commit()
        return result

    def resident(district):
        return Voter(user=make_user(verified=True, district=district))

    for _ in range(2):
        vote(resident(north), north_budget)
    vote(Voter(code=code_for(cycle, budget=north_budget)[0]), north_budget)  # a letter's code, at home
    vote(resident(north), north_budget, BallotChannel.KIOSK)
    vote(resident(north), north_budget, BallotChannel.KIOSK)
    changed = resident(north)
    vote(changed, north_budget)
    vote(changed, north_budget)  # changed their vote: one ballot counts
    ballot_services.void_ballot(staff, vote(resident(south), south_budget).ballot, "Cast with a stolen code")
    vote(resident(south), south_budget, BallotChannel.KIOSK)
    for serial in ("N-1", "N-2", "N-3"):
        ballot_services.cast_paper_ballot(north_budget, [Choice(project[north_budget.id].id)], serial=serial,
                                          clerk=staff, cast_at=utcnow())
    db.session.commit()
    close_voting(cycle)

    rows = {row["budget"].name: row for row in publishing.turnout(cycle)}
    assert {k: rows["North budget"][k] for k in ("online", "kiosk", "paper", "total")} == \
        {"online": 4, "kiosk": 2, "paper": 3, "total": 9}
    assert {k: rows["South budget"][k] for k in ("online", "kiosk", "paper", "total")} == \
        {"online": 0, "kiosk": 1, "paper": 0, "total": 1}

    for budget in cycle.budgets:
        publishing.publish_result(budget, staff)
    db.session.commit()
    page = client.get(f"/cycles/{cycle.slug}/results/{north_budget.id}").get_data(as_text=True)
    table = page[page.index('id="turnout-heading"'):]
    table = table[:table.index("</table>")]
    assert '<th scope="col">Online</th><th scope="col">Kiosk</th><th scope="col">Paper</th>' in table
    assert "<th scope=\"row\">North budget (North)</th><td>4</td><td>2</td><td>3</td><td>9</td>" in table
    assert "<th scope=\"row\">South budget (South)</th><td>0</td><td>1</td><td>0</td><td>1</td>" in table
