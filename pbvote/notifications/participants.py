"""Who took part in a cycle, as the domains that record it tell: a registry of queries.

Notifications sit below ``cycles`` and every domain that records participation, so they cannot ask
those domains themselves.  Each such domain registers, when it is imported (``create_app`` imports
every domain), a function that returns a ``SELECT`` of user ids for a cycle's id: proposals (authors,
co-authors, supporters, commenters), ballots (voters).  Announcements go to the union.
"""
from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa

from pbvote.auth.models import User

#: ``query(cycle_id)`` → a ``SELECT`` (or a ``UNION`` of them) of one column of user ids
#: (duplicates allowed).
ParticipantsQuery = Callable[[int], "sa.Select | sa.CompoundSelect"]

_SOURCES: dict[str, ParticipantsQuery] = {}


def register(name: str, query: ParticipantsQuery) -> ParticipantsQuery:
    """Add the participants ``query`` of a domain under ``name`` (registering the same name again
    replaces it, so a reloaded module does not count twice)."""
    _SOURCES[name] = query
    return query


def registered() -> list[str]:
    return sorted(_SOURCES)


def _plain(query: sa.Select | sa.CompoundSelect) -> sa.Select:
    """A source's own UNION as one plain SELECT (SQLite refuses a UNION nested in another)."""
    if isinstance(query, sa.CompoundSelect):
        inner = query.subquery()
        return sa.select(inner.c[0])
    return query


def participant_ids(cycle_id: int) -> sa.Select:
    """A ``SELECT`` of the ids (each once, by the union) of everyone who took part in the cycle, by every source."""
    queries = [_plain(query(cycle_id)) for query in _SOURCES.values()]
    if not queries:
        return sa.select(User.id).where(sa.false())
    union = sa.union(*queries).subquery()
    return sa.select(union.c[0].label("user_id"))
