"""Reading the city's districts (they are loaded with the demo or by hand; no page edits them)."""
from __future__ import annotations

import sqlalchemy as sa

from pbvote.extensions import db
from pbvote.places.models import District


def list_districts() -> list[District]:
    """Every district, by name (the choices of the forms that name one)."""
    return list(db.session.scalars(sa.select(District).order_by(District.name)))


def get_district(district_id: int | None) -> District | None:
    """The district with ``district_id``; None for no id (a form's "none" choice) or an unknown one."""
    return db.session.get(District, district_id) if district_id else None
