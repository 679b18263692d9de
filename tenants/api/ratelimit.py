"""Requests-per-minute limits for both APIs, on the `limits` library: in memory, or Redis when REDIS_URL is set."""

import math
import threading
import time

from django.conf import settings
from limits import RateLimitItemPerMinute
from limits.storage import storage_from_string
from limits.strategies import SlidingWindowCounterRateLimiter

_lock = threading.Lock()
_limiter: SlidingWindowCounterRateLimiter | None = None
_items: dict[int, RateLimitItemPerMinute] = {}


def _get_limiter() -> SlidingWindowCounterRateLimiter:
    global _limiter
    with _lock:
        if _limiter is None:
            uri = settings.API_RATE_LIMIT_STORAGE_URL or settings.REDIS_URL or "memory://"
            _limiter = SlidingWindowCounterRateLimiter(storage_from_string(uri))
        return _limiter


def reset() -> None:
    """Forget every counter (tests)."""
    _get_limiter().storage.reset()


def rate_limit_hit(namespace: str, identity: str, per_minute: int) -> int | None:
    """Count one request; return None when allowed, else the seconds to wait before retrying."""
    if per_minute <= 0:
        return 60
    item = _items.get(per_minute)
    if item is None:
        item = _items.setdefault(per_minute, RateLimitItemPerMinute(per_minute))
    limiter = _get_limiter()
    if limiter.hit(item, namespace, identity):
        return None
    reset_at = limiter.get_window_stats(item, namespace, identity).reset_time
    return max(1, math.ceil(reset_at - time.time()))
