"""Per-tenant request rate, concurrency and AWS capacity limits.

Rates use the `limits` library's moving window (no burst at window edges), in memory by default and in
Redis when REDIS_URL is set, so every server process draws from one budget.
"""

import math
import threading
import time
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


class Limiter:
    def __init__(self, redis_url: str = ""):
        self._windows = MovingWindowRateLimiter(storage_from_string(redis_url or "memory://"))
        self._gate = RedisConcurrencyGate(redis_url) if redis_url else LocalConcurrencyGate()

    def check_rate(self, principal: Principal, tool: Tool) -> None:
        maximum = principal.limits[Limit.REQUESTS_PER_MINUTE]
        self._hit(RateLimitItemPerMinute(maximum), Limit.REQUESTS_PER_MINUTE, principal, tool.cost, maximum)

    def check_capacity(self, principal: Principal, tool: Tool, args) -> None:
        for capacity in tool.capacity:
            maximum = principal.limits[capacity.limit]
            units = max(1, int(capacity.units(args)))
            self._hit(RateLimitItemPerSecond(maximum), capacity.limit, principal, units, maximum)

    @contextmanager
    def concurrency(self, principal: Principal):
        maximum = principal.limits[Limit.MAX_CONCURRENT_REQUESTS]
        if not self._gate.enter(principal.tenant_id, maximum):
            raise rate_limited(Limit.MAX_CONCURRENT_REQUESTS, _CONCURRENCY_RETRY_MS, maximum)
        try:
            yield
        finally:
            self._gate.leave(principal.tenant_id)

    def _hit(self, item, limit: str, principal: Principal, cost: int, maximum: int) -> None:
        if maximum > 0 and cost <= maximum and self._windows.hit(item, limit, principal.tenant_id, cost=cost):
            return
        reset_at = self._windows.get_window_stats(item, limit, principal.tenant_id).reset_time
        retry_ms = max(1, math.ceil((reset_at - time.time()) * 1000))
        raise rate_limited(limit, retry_ms, maximum)


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
