"""Per-tenant request rate, concurrency and AWS capacity limits.

Rates use a moving window (no burst at window edges): in process memory by default, and the `limits`
library's Redis moving window when REDIS_URL is set, so every server process draws from one budget.
"""

import math
import threading
import time
from collections import deque
from contextlib import contextmanager

import redis
from limits import RateLimitItemPerMinute, RateLimitItemPerSecond
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from mcpbridge.server.errors import rate_limited
from mcpbridge.server.registry import Tool
from tenants.limits import Limit
from tenants.policy import Principal

# A Redis concurrency slot outlives a crashed process by at most this long.
_SLOT_TTL_SECONDS = 120
_CONCURRENCY_RETRY_MS = 100
_WINDOW_ITEMS = {60: RateLimitItemPerMinute, 1: RateLimitItemPerSecond}


class Limiter:
    def __init__(self, redis_url: str = ""):
        self._windows = RedisWindows(redis_url) if redis_url else LocalWindows()
        self._gate = RedisConcurrencyGate(redis_url) if redis_url else LocalConcurrencyGate()

    def check_rate(self, principal: Principal, tool: Tool) -> None:
        self._hit(Limit.REQUESTS_PER_MINUTE, 60, principal, tool.cost)

    def check_capacity(self, principal: Principal, tool: Tool, args) -> None:
        for capacity in tool.capacity:
            self._hit(capacity.limit, 1, principal, max(1, int(capacity.units(args))))

    @contextmanager
    def concurrency(self, principal: Principal):
        maximum = principal.limits[Limit.MAX_CONCURRENT_REQUESTS]
        if not self._gate.enter(principal.tenant_id, maximum):
            raise rate_limited(Limit.MAX_CONCURRENT_REQUESTS, _CONCURRENCY_RETRY_MS, maximum)
        try:
            yield
        finally:
            self._gate.leave(principal.tenant_id)

    def _hit(self, limit: str, seconds: int, principal: Principal, cost: int) -> None:
        maximum = principal.limits[limit]
        wait = self._windows.hit(limit, principal.tenant_id, maximum, seconds, cost)
        if wait is not None:
            raise rate_limited(limit, max(1, math.ceil(wait * 1000)), maximum)


class LocalWindows:
    """Moving windows in this process. (The `limits` library's memory storage starts an expiry thread on
    most hits, which cost more than the whole rest of a governed call.)"""

    def __init__(self):
        self._lock = threading.Lock()
        self._hits: dict[tuple[str, str], deque[float]] = {}

    def hit(self, limit: str, tenant_id: str, maximum: int, seconds: int, cost: int) -> float | None:
        """Take `cost` units of the window; None when granted, else the seconds until enough units free up."""
        if not 0 < cost <= maximum:
            return float(seconds)  # never fits
        now = time.monotonic()
        with self._lock:
            hits = self._hits.setdefault((limit, tenant_id), deque())
            while hits and hits[0] <= now - seconds:
                hits.popleft()
            if len(hits) + cost <= maximum:
                hits.extend([now] * cost)
                return None
            # The oldest hits leave the window first; the call fits once this many of them have.
            return hits[len(hits) + cost - maximum - 1] + seconds - now


class RedisWindows:
    """Moving windows in Redis, shared by every server process."""

    def __init__(self, url: str):
        self._windows = MovingWindowRateLimiter(storage_from_string(url))

    def hit(self, limit: str, tenant_id: str, maximum: int, seconds: int, cost: int) -> float | None:
        if not 0 < cost <= maximum:
            return float(seconds)  # never fits
        item = _WINDOW_ITEMS[seconds](maximum)
        if self._windows.hit(item, limit, tenant_id, cost=cost):
            return None
        return self._windows.get_window_stats(item, limit, tenant_id).reset_time - time.time()


class LocalConcurrencyGate:
    def __init__(self):
        self._lock = threading.Lock()
        self._running: dict[str, int] = {}

    def enter(self, tenant_id: str, maximum: int) -> bool:
        with self._lock:
            running = self._running.get(tenant_id, 0)
            if running >= maximum:
                return False
            self._running[tenant_id] = running + 1
            return True

    def leave(self, tenant_id: str) -> None:
        with self._lock:
            self._running[tenant_id] = max(0, self._running.get(tenant_id, 1) - 1)


class RedisConcurrencyGate:
    def __init__(self, url: str):
        self._redis = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)

    def enter(self, tenant_id: str, maximum: int) -> bool:
        key = f"mcp:concurrency:{tenant_id}"
        pipe = self._redis.pipeline()
        pipe.incr(key)
        pipe.expire(key, _SLOT_TTL_SECONDS)
        running, _ = pipe.execute()
        if running > maximum:
            self._redis.decr(key)
            return False
        return True

    def leave(self, tenant_id: str) -> None:
        self._redis.decr(f"mcp:concurrency:{tenant_id}")
