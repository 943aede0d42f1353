"""A Hypothesis state machine over the voting services: random sequences of casts (valid, invalid,
retried, changed), votes by account and by access code, codes redeemed into accounts, ballots voided
by their tracking code and the close of voting, checked after every step against a model of what
must have been stored.

What it proves, for every sequence it tries, on the app's own ballot store (SQLite's portable one,
or PostgreSQL's fast path when the suite runs there):

* every ballot the services acknowledged is stored once: a retried submission returns the same
  receipt and writes nothing; a refused one writes nothing;
* each voter has at most one participation and one live ballot per budget, and the live ballot
  holds exactly the choices of their last acknowledged cast;
* the tally's ballots (``countable_ballots``) are exactly the model's live ballots, neither voided
  nor superseded, with their choices unaltered;
* sealing forgets every voter link and changes no ballot.
"""
from __future__ import annotations

import random
import shutil
import tempfile
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import g
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, invariant, precondition, rule

from conftest import PG_URL, _base_config, password_hash, truncate_all
from pbvote import create_app
from pbvote.auth.models import Role, User
from pbvote.ballots import services
from pbvote.ballots.kinds import kind_of
from pbvote.ballots.models import AccessCode, Ballot, Participation
from pbvote.ballots.services import Choice, Voter
from pbvote.cycles.models import BallotType, Budget, Category, Cycle, Phase, PhaseKind
from pbvote.errors import Conflict, DomainError, InvalidBallot, PhaseClosed
from pbvote.extensions import db
from pbvote.proposals.models import Proposal, ProposalStatus
from pbvote.timeutil import utcnow

pytestmark = pytest.mark.filterwarnings("ignore::hypothesis.errors.NonInteractiveExampleWarning")

COSTS = (30_000_00, 45_000_00, 20_000_00, 60_000_00, 15_000_00)


_SCHEMAS: dict = {}


def _schema(url: str | None):
    """The schema, built once per run: an SQLite file to copy for each example, or PostgreSQL's
    tables (emptied after each example, as the suite's fixtures do)."""
    if url not in _SCHEMAS:
        target = url or f"sqlite:///{Path(tempfile.mkdtemp(prefix='pbvote-proof-schema-')) / 'schema.sqlite'}"
        app = create_app(_base_config(target))
        with app.app_context():
            db.create_all()
            db.engine.dispose()
        _SCHEMAS[url] = url or target.removeprefix("sqlite:///")
    return _SCHEMAS[url]


class VotingMachine(RuleBasedStateMachine):
    """One cycle in its voting phase with an approval budget (changing one's vote allowed or not)
    and a knapsack budget; voters are accounts or access codes."""

    voters = Bundle("voters")

    def __init__(self):
        super().__init__()
        self._directory = tempfile.mkdtemp(prefix="pbvote-proof-")
        if PG_URL:
            url = PG_URL
            _schema(url)
        else:
            path = Path(self._directory) / "proof.sqlite"
            shutil.copyfile(_schema(None), path)
            url = f"sqlite:///{path}"
        self.app = create_app(_base_config(url))
        self._context = self.app.test_request_context("/", environ_base={"REMOTE_ADDR": "192.0.2.9"})
        self._context.push()
        g.sqlite_deferred = True
        # The model: per (voter key, budget id) the live ballot's choices, and every receipt given.
        self.live: dict[tuple[str, int], tuple[Choice, ...]] = {}
        self.receipts: dict[tuple[str, int, str], str] = {}
        self.sealed = False
        self.counter = 0

    def teardown(self):
        db.session.remove()
        self._context.pop()
        if PG_URL:
            truncate_all(self.app)
        with self.app.app_context():
            db.engine.dispose()
        shutil.rmtree(self._directory, ignore_errors=True)

    @initialize(allow_change=st.booleans())
    def a_cycle_in_its_voting_phase(self, allow_change):
        now = utcnow()
        day = timedelta(days=1)
        cycle = Cycle(slug="proof", name="Proof", description="", is_published=True, allow_vote_change=allow_change)
        cycle.phases = [Phase(kind=PhaseKind.VOTING, starts_at=now - day, ends_at=now + day),
                        Phase(kind=PhaseKind.RESULTS, starts_at=now + day, ends_at=now + 9 * day)]
        cycle.categories = [Category(name="Parks")]
        cycle.budgets = [
            Budget(name="Approval", position=0, total_amount=100_000_00, ballot_type=BallotType.APPROVAL,
                   min_choices=1, max_choices=3, tally_rule="greedy", tally_params={}),
            Budget(name="Knapsack", position=1, total_amount=90_000_00, ballot_type=BallotType.KNAPSACK,
                   min_choices=1, tally_rule="greedy", tally_params={}),
        ]
        author = User(email="author@proof.example", display_name="Author", role=Role.RESIDENT,
                      password_hash=password_hash())
        self.staff = User(email="staff@proof.example", display_name="Staff", role=Role.STAFF,
                          password_hash=password_hash())
        db.session.add_all([cycle, author, self.staff])
        for budget in cycle.budgets:
            for n, cost in enumerate(COSTS):
                db.session.add(Proposal(cycle=cycle, budget=budget, category=cycle.categories[0], author=author,
                                        title=f"{budget.name} {n}", body="A project.", estimated_amount=cost,
                                        final_amount=cost, status=ProposalStatus.FEASIBLE, submitted_at=now))
        db.session.commit()
        self.cycle = cycle
        self.budgets = list(cycle.budgets)
        self.projects = {b.id: services.ballot_proposals(b) for b in self.budgets}

    # -- voters ---------------------------------------------------------------------------

    # A few voters only, so that the same voter casts again (retries, changes, second ballots).
    @precondition(lambda self: self.counter < 4)
    @rule(target=voters)
    def a_resident_account(self):
        self.counter += 1
        user = User(email=f"voter{self.counter}@proof.example", display_name=f"Voter {self.counter}",
                    role=Role.RESIDENT, password_hash=password_hash(), verified_at=utcnow())
        db.session.add(user)
        db.session.commit()
        return ("user", user.id)

    @precondition(lambda self: self.counter < 4)
    @rule(target=voters, which=st.integers(0, 1))
    def an_access_code(self, which):
        self.counter += 1
        _batch, codes = services.generate_access_codes(self.staff, self.cycle, count=1, budget=self.budgets[which])
        db.session.commit()
        return ("code", services.find_access_code(codes[0]).id)

    def _voter(self, ref) -> Voter:
        kind, ident = ref
        if kind == "user":
            return Voter(user=db.session.get(User, ident))
        return Voter(code=db.session.get(AccessCode, ident))

    # -- casting --------------------------------------------------------------------------

    @rule(voter=voters, which=st.integers(0, 1), seed=st.integers(0, 2**16), valid=st.booleans(),
          token_pick=st.integers(0, 3))
    def cast(self, voter, which, seed, valid, token_pick):
        budget = self.budgets[which]
        proposals = self.projects[budget.id]
        rng = random.Random(seed)
        if valid:
            choices = kind_of(budget).sample(rng, budget, proposals)
        else:  # over the limits, or an unknown project
            choices = [Choice(p.id) for p in proposals] if rng.random() < 0.7 else [Choice(10_000_000)]
        token = f"proof-token-{token_pick}".ljust(24, "x")
        v = self._voter(voter)
        key = (v.key, budget.id)
        retry_of = self.receipts.get((v.key, budget.id, token))
        try:
            result = services.cast_ballot(v, budget, choices, token)
            db.session.commit()
        except InvalidBallot:
            event("cast refused: breaks the rules")
            db.session.rollback()
            assert not valid or retry_of is None
            return
        except (Conflict, DomainError) as error:
            event(f"cast refused: {type(error).__name__}")
            db.session.rollback()
            if isinstance(error, Conflict):
                # Refused as a second ballot: only for a voter who took part, and never a change of
                # a live ballot where the cycle allows changing one's vote.
                assert retry_of is None and self._took_part(v, budget)
                assert not (self.cycle.allow_vote_change and key in self.live)
            elif isinstance(error, PhaseClosed):
                assert self.sealed  # voting has closed
            else:  # not eligible here (an access code of the other budget)
                assert v.code is not None and v.code.batch.budget_id != budget.id
            return
        assert not self.sealed, "a ballot was accepted after voting closed"
        event("cast: " + ("retry" if retry_of else "changed" if result.superseded else "first"))
        if retry_of is not None:
            assert result.replayed and result.tracking_code == retry_of
            return
        assert not result.replayed
        self.receipts[(v.key, budget.id, token)] = result.tracking_code
        self.live[key] = tuple(sorted(kind_of(budget).check_choices(budget, proposals, choices),
                                      key=lambda c: c.proposal_id))

    def _took_part(self, voter: Voter, budget) -> bool:
        column = Participation.user_id if voter.user is not None else Participation.access_code_id
        ident = voter.user.id if voter.user is not None else voter.code.id
        return db.session.scalar(sa.select(sa.func.count()).select_from(Participation)
                                 .where(column == ident, Participation.budget_id == budget.id)) > 0

    @precondition(lambda self: self.receipts)
    @rule(data=st.data())
    def void_by_tracking_code(self, data):
        (voter_key, budget_id, _token), code = data.draw(st.sampled_from(sorted(self.receipts.items())))
        ballot = services.ballot_by_tracking_code(code)
        was_live = ballot.voided_at is None and ballot.superseded_at is None
        try:
            services.void_ballot_by_tracking_code(self.staff, self.cycle, code, "Reported cast under pressure")
            db.session.commit()
        except DomainError:
            db.session.rollback()
            assert ballot.voided_at is not None
            return
        if was_live:
            self.live.pop((voter_key, budget_id), None)

    @precondition(lambda self: not self.sealed and len(self.receipts) >= 4)
    @rule()
    def voting_closes(self):
        voting = self.cycle.phase(PhaseKind.VOTING)
        voting.ends_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
        before = self._countable()
        services.seal_voter_links(self.cycle)
        db.session.commit()
        assert self._countable() == before
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Ballot)
                                 .where(Ballot.participation_id.is_not(None))) == 0
        self.sealed = True

    # -- invariants -------------------------------------------------------------------------

    def _countable(self) -> Counter:
        return Counter(
            (ballot.budget_id, tuple(sorted((c.proposal_id, c.points, c.rank) for c in ballot.choices)))
            for budget in self.budgets
            for ballot in services.countable_ballots(budget)
        )

    @invariant()
    def the_tally_counts_exactly_the_acknowledged_live_ballots(self):
        if not hasattr(self, "budgets"):
            return
        expected = Counter(
            (budget_id, tuple((c.proposal_id, c.points, c.rank) for c in choices))
            for (_voter, budget_id), choices in self.live.items()
        )
        assert self._countable() == expected

    @invariant()
    def one_participation_and_one_live_ballot_per_voter_and_budget(self):
        if not hasattr(self, "budgets"):
            return
        for column in (Participation.user_id, Participation.access_code_id):
            doubles = db.session.execute(
                sa.select(column, Participation.budget_id).where(column.is_not(None))
                .group_by(column, Participation.budget_id).having(sa.func.count() > 1)
            ).all()
            assert doubles == []
        live_per_participation = db.session.execute(
            sa.select(Ballot.participation_id).where(Ballot.participation_id.is_not(None),
                                                     Ballot.superseded_at.is_(None), Ballot.voided_at.is_(None))
            .group_by(Ballot.participation_id).having(sa.func.count() > 1)
        ).all()
        assert live_per_participation == []


TestVotingServicesKeepEveryBallotExactlyOnce = VotingMachine.TestCase
TestVotingServicesKeepEveryBallotExactlyOnce.settings = settings(
    max_examples=30, stateful_step_count=35, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
