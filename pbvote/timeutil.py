"""UTC time helpers and time zones.

Timestamps are stored as naive UTC datetimes (columns ending in ``_at``).  People see and enter them
in a time zone: a cycle's own (``Cycle.timezone``, an IANA name such as ``Europe/Warsaw``) for
everything that belongs to the cycle, else the site's (``BABEL_DEFAULT_TIMEZONE``, set with
``PBVOTE_TIMEZONE``).  :func:`local_to_utc` and :func:`utc_to_local` convert, daylight saving
included.
"""
from __future__ import annotations

from datetime import datetime, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from flask import current_app, has_app_context

DEFAULT_ZONE = "UTC"


def utcnow() -> datetime:
    """The current time as a naive UTC datetime (what ``*_at`` columns hold)."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


@lru_cache(maxsize=1)
def zone_names() -> tuple[str, ...]:
    """Every IANA zone name zoneinfo knows, sorted (for the cycle form's suggestions)."""
    return tuple(sorted(available_timezones()))


@lru_cache(maxsize=512)
def is_zone(name: str | None) -> bool:
    """True when ``name`` is an IANA time zone name zoneinfo can load."""
    if not name or len(name) > 64 or name != name.strip():
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def site_zone_name() -> str:
    """The site's time zone: ``BABEL_DEFAULT_TIMEZONE`` (``PBVOTE_TIMEZONE``), UTC outside an app."""
    if not has_app_context():
        return DEFAULT_ZONE
    return current_app.config.get("BABEL_DEFAULT_TIMEZONE") or DEFAULT_ZONE


def zone_name(owner=None) -> str:
    """The zone times of ``owner`` are shown in: a zone name as is, a cycle's ``timezone`` (or
    anything with that attribute), else the site's zone."""
    if isinstance(owner, str):
        name = owner
    else:
        name = getattr(owner, "timezone", None)
    return name if name and is_zone(name) else site_zone_name()


def utc_to_local(value: datetime, zone: str) -> datetime:
    """A naive UTC datetime as an aware datetime in ``zone``."""
    return value.replace(tzinfo=timezone.utc).astimezone(ZoneInfo(zone))


class NonexistentLocalTime(ValueError):
    """A wall-clock time the zone skips (the hour clocks go forward)."""


def local_to_utc(value: datetime, zone: str) -> datetime:
    """A naive wall-clock time in ``zone`` as naive UTC.

    An ambiguous time (the hour repeated when clocks go back) is read as its first occurrence; a
    time that does not exist (skipped when clocks go forward) raises :class:`NonexistentLocalTime`.
    """
    tz = ZoneInfo(zone)
    aware = value.replace(tzinfo=tz, fold=0)
    utc = aware.astimezone(timezone.utc)
    if utc.astimezone(tz).replace(tzinfo=None) != value.replace(tzinfo=None, fold=0):
        raise NonexistentLocalTime(value)
    return utc.replace(tzinfo=None)

