"""Where proposals are: the places a map of proposals shows, and the area a location picker opens on.

The pages render the places twice from the same data: as a list (text, for every visitor, with or
without JavaScript) and as JSON for ``pbvote/static/proposals-map.js``, which draws them on a
Leaflet map when map tiles are configured (:mod:`pbvote.maps`).  The JSON goes through Jinja's
``tojson``, which escapes ``<``, ``>``, ``&`` and quotes, so a title can never end the script
element; the script puts titles into the page as text, never as HTML.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass

import sqlalchemy as sa
from flask import url_for

from pbvote.cycles.models import Cycle
from pbvote.extensions import db
from pbvote.proposals.models import PUBLIC_STATUSES, Proposal


@dataclass(frozen=True)
class MapPlace:
    """A proposal with coordinates, as a map shows it (``lat``/``lon`` in degrees, WGS 84)."""

    id: int
    title: str
    url: str
    lat: float
    lon: float
    address: str

    @property
    def json(self) -> dict:
        """What the page's JSON holds for the place (every field)."""
        return asdict(self)


def map_places(proposals: Iterable[Proposal]) -> list[MapPlace]:
    """The places of those of ``proposals`` that have coordinates, in the order given."""
    return [
        MapPlace(id=p.id, title=p.title, url=url_for("proposals.show", proposal_id=p.id),
                 lat=p.latitude, lon=p.longitude, address=p.address or "")
        for p in proposals
        if p.latitude is not None and p.longitude is not None
    ]


def located_area(cycle: Cycle) -> tuple[float, float, float, float] | None:
    """(south, west, north, east): the box around the public proposals of ``cycle`` that have
    coordinates, where a location picker opens (the city, without a setting for it); None when
    none has."""
    row = db.session.execute(
        sa.select(sa.func.min(Proposal.latitude), sa.func.min(Proposal.longitude),
                  sa.func.max(Proposal.latitude), sa.func.max(Proposal.longitude))
        .where(Proposal.cycle_id == cycle.id, Proposal.status.in_(PUBLIC_STATUSES),
               Proposal.latitude.is_not(None), Proposal.longitude.is_not(None))
    ).one()
    return None if row[0] is None else (row[0], row[1], row[2], row[3])
