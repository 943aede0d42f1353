"""What the cycles domain tells people, through :mod:`pbvote.notifications`.

:func:`notify_results_published` is for the domain that publishes results: it tells everyone who
took part in the cycle (wrote, co-authored, supported or commented a proposal, or voted: see
:mod:`pbvote.notifications.participants`), once per cycle.
"""
from __future__ import annotations

from pbvote.cycles.models import Cycle
from pbvote.notifications import services
from pbvote.notifications.kinds import NotificationKind
from pbvote.notifications.links import link_to


def notify_results_published(cycle: Cycle, link: str | None = None) -> int | None:
    """Announce that ``cycle``'s results are published, in the caller's transaction.

    ``link``: where the notification leads (a path of this site, e.g. ``link_to("results.show",
    slug=...)``); by default the cycle's page.  Announced once per cycle: a second call (results
    published again after a correction) tells nobody and returns None; otherwise returns how many
    people were told.
    """
    return services.announce(
        NotificationKind.RESULTS_PUBLISHED, cycle, link or link_to("main.cycle", slug=cycle.slug), cycle.id,
        cycle=cycle.name,
    )
