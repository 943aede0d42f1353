"""Human-readable, translatable names of the ballots domain's enum values (templates reach them
through the ``channel_label`` template global that the ballots blueprint registers)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from pbvote.ballots.models import BallotChannel

CHANNEL_LABELS = {
    BallotChannel.ONLINE: _l("Online"),
    BallotChannel.PAPER: _l("Paper"),
}


def channel_label(channel: BallotChannel):
    """The name of a ballot's channel, in the visitor's language (a lazy string)."""
    return CHANNEL_LABELS[channel]
