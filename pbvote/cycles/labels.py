"""Human-readable, translatable names of the cycles domain's enum values (templates reach them
through the ``phase_label`` template global that the cycles blueprint registers)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from pbvote.cycles.models import DistrictEligibility, PhaseKind

PHASE_LABELS = {
    PhaseKind.SUBMISSION: _l("Proposal submission"),
    PhaseKind.REVIEW: _l("Review"),
    PhaseKind.VOTING: _l("Voting"),
    PhaseKind.RESULTS: _l("Results"),
    PhaseKind.IMPLEMENTATION: _l("Implementation"),
}

ELIGIBILITY_LABELS = {
    DistrictEligibility.HOME_DISTRICT: _l("City-wide budget and the budget of one's home district"),
    DistrictEligibility.ANY_ONE_DISTRICT: _l("City-wide budget and any one district budget"),
    DistrictEligibility.ALL_BUDGETS: _l("Every budget"),
}


def phase_label(kind: PhaseKind):
    """The name of a phase, in the visitor's language (a lazy string)."""
    return PHASE_LABELS[kind]
