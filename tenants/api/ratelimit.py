"""Requests-per-minute limits for both APIs, on the `limits` library: in memory, or Redis when REDIS_URL is set.

When that Redis is unreachable the limit fails closed: the APIs answer 503 with Retry-After (RateLimitUnavailable)
instead of serving callers unmetered, and the outage is logged once.
"""

import math
import threading
import time

from django.conf import settings
from limits import RateLimitItemPerMinute
from limits.storage import storage_from_string
from limits.strategies import SlidingWindowCounterRateLimiter

from controlplane.outages import STORE_ERRORS, store_outage

_lock = threading.Lock()
_limiter: SlidingWindowCounterRateLimiter | None = None
_storage_uri = ""
_items: dict[int, RateLimitItemPerMinute] = {}
# A stalled Redis delays a request by at most this long per command before it is refused.
_REDIS_TIMEOUT_SECONDS = 2
RETRY_AFTER_SECONDS = 1


class RateLimitUnavailable(Exception):
    """The rate-limit store cannot be reached; the request is refused (503, Retry-After)."""


def _get_limiter() -> SlidingWindowCounterRateLimiter:
    global _limiter, _storage_uri
    with _lock:
        if _limiter is None:
            uri = _storage_uri = settings.API_RATE_LIMIT_STORAGE_URL or settings.REDIS_URL or "memory://"
            options = {}
            if uri.startswith(("redis", "rediss")):
                options = {"socket_timeout": _REDIS_TIMEOUT_SECONDS, "socket_connect_timeout": _REDIS_TIMEOUT_SECONDS}
            _limiter = SlidingWindowCounterRateLimiter(storage_from_string(uri, **options))
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
    started = time.monotonic()
    try:
        if limiter.hit(item, namespace, identity):
            wait = None
        else:
            reset_at = limiter.get_window_stats(item, namespace, identity).reset_time
            wait = max(1, math.ceil(reset_at - time.time()))
    except STORE_ERRORS as exc:
        store_outage(_storage_uri).failed(exc)
        raise RateLimitUnavailable() from None
    store_outage(_storage_uri).succeeded(started)
    return wait
