"""What the ballots domain tells people, through :mod:`pbvote.notifications`.

* Voting has opened in a cycle: announced once, by the mail worker, to everyone who took part in
  the cycle (:func:`announce_voting_opened`, a receiver of
  :data:`pbvote.notifications.worker.worker_pass`).  Voting opens by date, not by a request, so the
  worker looks on each pass for published cycles whose voting phase is running and that were not
  announced yet (a unique marker per cycle makes it once, however many workers look).
* Who took part in a cycle, as far as ballots know: everyone who voted with an account (registered
  with :mod:`pbvote.notifications.participants`), so that results reach the voters.

Imported by :func:`pbvote.ballots.setup.init_app`, which ``create_app`` calls.
"""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from pbvote.ballots.models import Participation
from pbvote.cycles.models import Budget, Cycle, Phase, PhaseKind
from pbvote.extensions import db
from pbvote.notifications import participants, services
from pbvote.notifications.kinds import NotificationKind
from pbvote.notifications.links import link_to
from pbvote.notifications.worker import worker_pass
from pbvote.timeutil import utcnow, zone_name


def cycle_voters(cycle_id: int) -> sa.Select:
    """User ids of the accounts that voted in the cycle (access codes have no account)."""
    return (
        sa.select(Participation.user_id)
        .join(Budget, Budget.id == Participation.budget_id)
        .where(Budget.cycle_id == cycle_id, Participation.user_id.is_not(None))
    )


participants.register("ballots", cycle_voters)


def cycles_to_announce(now: datetime) -> list[Cycle]:
    """Published cycles whose voting phase is running at ``now`` and that were not announced."""
    voting_now = sa.select(Phase.cycle_id).where(
        Phase.kind == PhaseKind.VOTING, Phase.starts_at <= now, Phase.ends_at > now
    )
    announced = services.announced_ids(NotificationKind.VOTING_OPENED, Cycle.__name__)
    return list(db.session.scalars(
        sa.select(Cycle).where(Cycle.is_published, Cycle.id.in_(voting_now), Cycle.id.not_in(announced))
        .order_by(Cycle.id)
    ))


@worker_pass.connect
def announce_voting_opened(sender=None, now: datetime | None = None) -> int:
    """Announce voting in every cycle where it has opened and was not announced; returns how many
    cycles were announced now."""
    now = now or utcnow()
    announced = 0
    for cycle in cycles_to_announce(now):
        voting = cycle.phase(PhaseKind.VOTING)
        told = services.announce(
            NotificationKind.VOTING_OPENED, cycle, link_to("ballots.vote", slug=cycle.slug), cycle.id,
            cycle=cycle.name, closes_at=voting.ends_at, timezone=zone_name(cycle),
        )
        announced += told is not None
    return announced
