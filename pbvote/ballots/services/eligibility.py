"""Who may vote where and when: the voting phase, access codes' reach, verification, minimum age,
districts.  :func:`check_eligible` is asked on every cast and for the voting page's overview."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask_babel import gettext as _

from pbvote.ballots.models import BallotChannel, Participation
from pbvote.ballots.services.voters import Voter, _voter_filter
from pbvote.cycles.models import Budget, Cycle, DistrictEligibility, PhaseKind
from pbvote.cycles.services import list_public_cycles
from pbvote.errors import NotAllowed, PhaseClosed
from pbvote.extensions import db
from pbvote.timeutil import utcnow

def check_voting_open(cycle: Cycle, now: datetime) -> None:
    if not cycle.is_published or not cycle.is_in(PhaseKind.VOTING, now):
        phase = cycle.phase(PhaseKind.VOTING)
        if phase is not None and now >= phase.ends_at:
            raise PhaseClosed(_("Voting has closed. Ballots cast after the closing time cannot be counted."))
        raise PhaseClosed(_("Voting is not open."))


def check_eligible(voter: Voter, budget: Budget, now: datetime | None = None) -> None:
    """Raise unless ``voter`` may cast a ballot in ``budget`` at ``now`` (server time)."""
    now = now or utcnow()
    cycle = budget.cycle
    check_voting_open(cycle, now)
    if voter.is_code:
        code = voter.code
        batch = code.batch
        if not cycle.access_codes_enabled:
            raise NotAllowed(_("This cycle does not accept access codes."))
        if code.is_void:
            raise NotAllowed(_("This access code has been cancelled."))
        if code.redeemed_at is not None:
            raise NotAllowed(_("This access code was added to an account. Sign in to vote."))
        if batch.cycle_id != cycle.id:
            raise NotAllowed(_("This access code is for another budget cycle."))
        if batch.budget_id is not None:
            allowed = batch.budget_id == budget.id
        else:
            allowed = budget.district_id is None or budget.district_id == batch.district_id
        if not allowed:
            raise NotAllowed(_("Your access code is not valid for this budget."))
        return
    user = voter.user
    if not user.is_active:
        raise NotAllowed()
    if cycle.verified_only and not user.is_verified:
        raise NotAllowed(_("Only residents whose address has been confirmed can vote. Enter the access code from your letter, or ask the council to confirm your address."))
    if cycle.minimum_age:
        # Counted by year of birth: whoever turns the minimum age this calendar year may vote.
        if user.birth_year is None:
            raise NotAllowed(_(
                "This vote is open to residents who are at least %(age)d years old this year. "
                "Add your year of birth on your account page to vote.", age=cycle.minimum_age
            ))
        if now.year - user.birth_year < cycle.minimum_age:
            raise NotAllowed(_("You must be at least %(age)d years old to vote.", age=cycle.minimum_age))
    if budget.district_id is None or cycle.district_eligibility == DistrictEligibility.ALL_BUDGETS:
        return
    if cycle.district_eligibility == DistrictEligibility.HOME_DISTRICT:
        if user.home_district_id != budget.district_id:
            raise NotAllowed(_("You can vote in the budget of your home district only."))
        return
    # ANY_ONE_DISTRICT: the first district budget voted in is the one.
    other = db.session.scalar(
        sa.select(Participation.id)
        .join(Budget, Budget.id == Participation.budget_id)
        .where(
            Participation.user_id == user.id,
            Budget.cycle_id == cycle.id,
            Budget.district_id.is_not(None),
            Budget.id != budget.id,
        )
        .limit(1)
    )
    if other is not None:
        raise NotAllowed(_("You have already voted in another district's budget; you can vote in one district only."))


@dataclass(frozen=True)
class BudgetStatus:
    budget: Budget
    refusal: str | None  # why the voter cannot vote here, or None
    voted: bool
    #: Until when a vote here can still be cast or changed (the end of voting), when it can.
    changeable_until: datetime | None = None

    @property
    def can_vote(self) -> bool:
        return self.refusal is None


@dataclass(frozen=True)
class VotingProgress:
    """"You voted in 2 of the 3 budgets you can vote in": counted over the budgets the voter may
    vote in now, plus those they already voted in."""

    voted: int
    eligible: int

    @property
    def complete(self) -> bool:
        return self.eligible > 0 and self.voted >= self.eligible


def voting_progress(statuses: list[BudgetStatus]) -> VotingProgress:
    """Sum up :func:`voting_overview`'s answer for the voter's summary line."""
    return VotingProgress(
        voted=sum(1 for s in statuses if s.voted),
        eligible=sum(1 for s in statuses if s.voted or s.can_vote),
    )


def open_voting_cycles(now: datetime | None = None) -> list[Cycle]:
    """Published cycles whose voting phase is running at ``now``, the most recent first."""
    now = now or utcnow()
    return [cycle for cycle in list_public_cycles() if cycle.is_in(PhaseKind.VOTING, now)]


#: Shown where a voter who voted on paper would otherwise be offered to vote (again) online.
def on_paper_message() -> str:
    return _("You voted in this budget on paper, at a community session. That ballot counts; it cannot be "
             "changed online.")


def took_part_on_paper(voter: Voter, budget: Budget) -> bool:
    """Whether ``voter``'s participation in ``budget`` was registered at a paper session (their
    sheet is counted with no link to them, so there is nothing to show or change online)."""
    return db.session.scalar(
        sa.select(Participation.channel).where(_voter_filter(voter), Participation.budget_id == budget.id)
    ) == BallotChannel.PAPER


def voting_overview(cycle: Cycle, voter: Voter | None, now: datetime | None = None) -> list[BudgetStatus]:
    """For the voting page: each budget, whether ``voter`` may vote in it and whether they did."""
    now = now or utcnow()
    channels: dict[int, BallotChannel] = {}
    if voter is not None:
        rows = db.session.execute(
            sa.select(Participation.budget_id, Participation.channel).where(
                _voter_filter(voter), Participation.budget_id.in_([b.id for b in cycle.budgets])
            )
        )
        channels = {budget_id: channel for budget_id, channel in rows}
    out = []
    voting = cycle.phase(PhaseKind.VOTING)
    for budget in cycle.budgets:
        refusal = None
        if voter is None:
            refusal = _("Sign in or enter your access code to vote.")
        else:
            try:
                check_eligible(voter, budget, now)
            except (NotAllowed, PhaseClosed) as error:
                refusal = error.message
        did_vote = budget.id in channels
        if refusal is None and channels.get(budget.id) == BallotChannel.PAPER:
            refusal = on_paper_message()
        until = None
        if refusal is None and voting is not None and (not did_vote or cycle.allow_vote_change):
            until = voting.ends_at
        out.append(BudgetStatus(budget, refusal, did_vote, until))
    return out
