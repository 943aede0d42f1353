"""One rate-limit check on a hot path, without Flask-Limiter's per-request machinery.

Flask-Limiter's decorator resolves, filters and sorts the route's limits, evaluates their key
functions and builds request-limit records on every request; on the ballot cast that was about as
much CPU as the Redis round trip itself.  :func:`hit` makes the same single counter update through
the same storage and strategy (the ones Flask-Limiter configured from ``RATELIMIT_*``), under the
same key prefix, so the counters live where every other limit's do.  Everything else keeps using
``@limiter.limit``.
"""
from __future__ import annotations

import time
from functools import lru_cache

from flask import current_app
from limits import RateLimitItem, parse
from werkzeug.exceptions import TooManyRequests

from pbvote.extensions import limiter


class RateLimited(TooManyRequests):
    """A 429 that knows when the next attempt will be let through (``retry_after``, seconds)."""

    def __init__(self, limit: str, retry_after: int) -> None:
        super().__init__(description=limit)
        self.retry_after = retry_after


@lru_cache(maxsize=64)
def _parsed(limit: str) -> RateLimitItem:
    return parse(limit)


def _identifiers(key: str, scope: str) -> tuple[str, ...]:
    # The RATELIMIT_KEY_PREFIX that Flask-Limiter applies to its own keys, so that every counter of
    # one site shares it.
    prefix = current_app.config.get("RATELIMIT_KEY_PREFIX") or ""
    return (prefix, key, scope) if prefix else (key, scope)


def _refuse(item: RateLimitItem, args: tuple[str, ...]) -> RateLimited:
    reset_at = limiter.limiter.get_window_stats(item, *args).reset_time
    return RateLimited(str(item), max(1, int(reset_at - time.time()) + 1))


def hit(limit: str, key: str, scope: str) -> None:
    """Count one request against ``limit`` (e.g. ``"20 per 10 minutes"``) for ``key`` in ``scope``;
    raise :class:`RateLimited` when it is used up.  Does nothing while rate limiting is disabled."""
    if not limiter.enabled:
        return
    item = _parsed(limit)
    args = _identifiers(key, scope)
    if limiter.limiter.hit(item, *args):
        return
    raise _refuse(item, args)


def count(limit: str, key: str, scope: str) -> None:
    """Count one event (a failed attempt, say) against ``limit`` without refusing anything."""
    if limiter.enabled:
        limiter.limiter.hit(_parsed(limit), *_identifiers(key, scope))


def used(limit: str, key: str, scope: str) -> int:
    """How many events are counted against ``limit`` for ``key`` in its current window."""
    if not limiter.enabled:
        return 0
    item = _parsed(limit)
    return item.amount - limiter.limiter.get_window_stats(item, *_identifiers(key, scope)).remaining


def check(limit: str, key: str, scope: str) -> None:
    """Raise :class:`RateLimited` if ``limit`` is used up for ``key``, counting nothing."""
    if limiter.enabled and used(limit, key, scope) >= _parsed(limit).amount:
        raise _refuse(_parsed(limit), _identifiers(key, scope))


def reset(limit: str, key: str, scope: str) -> None:
    """Forget what was counted against ``limit`` for ``key`` (a success after failures)."""
    if limiter.enabled:
        limiter.limiter.clear(_parsed(limit), *_identifiers(key, scope))
