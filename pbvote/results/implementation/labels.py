"""Translatable names of the implementation statuses (the ``implementation_status_label`` template global)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from pbvote.proposals.forms import FREQUENCY_LABELS, PLEDGE_KIND_LABELS
from pbvote.results.implementation.models import ImplementationStatus
from pbvote.timeutil import utcnow

IMPLEMENTATION_STATUS_LABELS = {
    ImplementationStatus.PLANNED: _l("Planned"),
    ImplementationStatus.IN_PROGRESS: _l("In progress"),
    ImplementationStatus.DONE: _l("Done"),
    ImplementationStatus.CANCELLED: _l("Cancelled"),
}


def implementation_status_label(status: ImplementationStatus):
    return IMPLEMENTATION_STATUS_LABELS[status]


def page_helpers() -> dict:
    """What the implementation templates need besides their data: today's date (overdue
    milestones) and the names of the pledge kinds and frequencies (as on a proposal's page)."""
    return {"today": utcnow().date(), "pledge_kind_label": PLEDGE_KIND_LABELS.get, "frequency_label": FREQUENCY_LABELS.get}
