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


def hit(limit: str, key: str, scope: str) -> None:
    """Count one request against ``limit`` (e.g. ``"20 per 10 minutes"``) for ``key`` in ``scope``;
    raise :class:`RateLimited` when it is used up.  Does nothing while rate limiting is disabled."""
    if not limiter.enabled:
        return
    item = _parsed(limit)
    prefix = limiter._key_prefix  # the RATELIMIT_KEY_PREFIX that Flask-Limiter applies to its own keys
    args = (prefix, key, scope) if prefix else (key, scope)
    strategy = limiter.limiter
    if strategy.hit(item, *args):
        return
    reset_at = strategy.get_window_stats(item, *args).reset_time
    raise RateLimited(str(item), max(1, int(reset_at - time.time()) + 1))
