"""UTC time helpers.  Timestamps are stored as naive UTC datetimes (columns ending in ``_at``)."""
from __future__ import annotations

from datetime import datetime, timezone


def utcnow() -> datetime:
    """The current time as a naive UTC datetime (what ``*_at`` columns hold)."""
    return datetime.now(timezone.utc).replace(tzinfo=None)
