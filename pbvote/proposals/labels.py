"""Human-readable, translatable names of the proposals domain's enum values (templates reach them
through the ``status_label`` template global that the proposals blueprint registers)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from pbvote.proposals.models import ProposalStatus

STATUS_LABELS = {
    ProposalStatus.DRAFT: _l("Draft"),
    ProposalStatus.SUBMITTED: _l("Submitted"),
    ProposalStatus.FEASIBLE: _l("Feasible"),
    ProposalStatus.UNFEASIBLE: _l("Not feasible"),
    ProposalStatus.MERGED: _l("Merged"),
    ProposalStatus.WITHDRAWN: _l("Withdrawn"),
}


def status_label(status: ProposalStatus):
    """The name of a proposal's status, in the visitor's language (a lazy string)."""
    return STATUS_LABELS[status]
