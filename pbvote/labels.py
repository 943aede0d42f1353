"""Human-readable, translatable names of enum values shown to people."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from pbvote.ballots.models import BallotChannel
from pbvote.cycles.models import DistrictEligibility, PhaseKind
from pbvote.proposals.models import ProposalStatus

PHASE_LABELS = {
    PhaseKind.SUBMISSION: _l("Proposal submission"),
    PhaseKind.REVIEW: _l("Review"),
    PhaseKind.VOTING: _l("Voting"),
    PhaseKind.RESULTS: _l("Results"),
    PhaseKind.IMPLEMENTATION: _l("Implementation"),
}

STATUS_LABELS = {
    ProposalStatus.DRAFT: _l("Draft"),
    ProposalStatus.SUBMITTED: _l("Submitted"),
    ProposalStatus.FEASIBLE: _l("Feasible"),
    ProposalStatus.UNFEASIBLE: _l("Not feasible"),
    ProposalStatus.MERGED: _l("Merged"),
    ProposalStatus.WITHDRAWN: _l("Withdrawn"),
}

ELIGIBILITY_LABELS = {
    DistrictEligibility.HOME_DISTRICT: _l("City-wide budget and the budget of one's home district"),
    DistrictEligibility.ANY_ONE_DISTRICT: _l("City-wide budget and any one district budget"),
    DistrictEligibility.ALL_BUDGETS: _l("Every budget"),
}

CHANNEL_LABELS = {
    BallotChannel.ONLINE: _l("Online"),
    BallotChannel.PAPER: _l("Paper"),
    BallotChannel.KIOSK: _l("Kiosk"),
}
