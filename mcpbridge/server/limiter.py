"""Per-tenant request rate, concurrency and AWS capacity limits.

Rates use a moving window (no burst at window edges): in process memory by default, and the `limits`
library's Redis moving window when REDIS_URL is set, so every server process draws from one budget.

Concurrency is a set of leases per tenant: a running call holds one, named by an owner id and carrying an
absolute deadline. The call releases it when it ends; a lease that is never released (its process died, the
store was unreachable at release time) lapses at its deadline by itself. Nothing ever extends a lease, so a
refused call or a retry cannot keep a leaked slot alive.

When Redis is unreachable these limits fail closed: calls are refused with -32003 (`retry_after_ms` in data)
rather than run unmetered, because the budgets they guard (AWS capacity, concurrency) are shared between
mutually hostile tenants. The failure is logged once per outage. A release that fails is not an error of the
call: the call's work is done (and may have committed); its lease lapses at its deadline.
"""

import itertools
import math
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from typing import TypeVar

import redis
from django.conf import settings
from limits import RateLimitItemPerMinute, RateLimitItemPerSecond
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter
from redis.backoff import NoBackoff
from redis.retry import Retry

from controlplane.outages import STORE_ERRORS, store_outage
from mcpbridge.server.errors import limit_exceeded, limits_unavailable, rate_limited
from mcpbridge.server.registry import Tool
from tenants.limits import Limit
from tenants.policy import Principal

_CONCURRENCY_RETRY_MS = 100
_WINDOW_ITEMS = {60: RateLimitItemPerMinute, 1: RateLimitItemPerSecond}
# A stalled Redis costs a call at most this long per command; it is not retried within the call.
_REDIS_TIMEOUT_SECONDS = 2

T = TypeVar("T")


def redis_pool(redis_url: str) -> redis.ConnectionPool:
    """Short timeouts and no retries within a call: a stalled Redis fails the call fast (and fails closed)."""
    return redis.ConnectionPool.from_url(
        redis_url,
        socket_timeout=_REDIS_TIMEOUT_SECONDS,
        socket_connect_timeout=_REDIS_TIMEOUT_SECONDS,
        retry=Retry(NoBackoff(), 0),
    )


def rate_windows(redis_url: str = ""):
    """Moving windows in Redis (shared by every process) when a URL is given, else in this process."""
    return RedisWindows(redis_url, redis_pool(redis_url)) if redis_url else LocalWindows()


class Limiter:
    def __init__(self, redis_url: str = "", *, lease_seconds: float | None = None):
        lease_seconds = lease_seconds or settings.MCP_CONCURRENCY_LEASE_SECONDS
        if redis_url:
            pool = redis_pool(redis_url)
            self._windows = RedisWindows(redis_url, pool)
            self._gate = RedisConcurrencyGate(redis.Redis(connection_pool=pool), lease_seconds)
            self._outage = store_outage(redis_url)
        else:
            self._windows = LocalWindows()
            self._gate = LocalConcurrencyGate(lease_seconds)
            self._outage = None

    def check_rate(self, principal: Principal, tool: Tool) -> None:
        self._hit(Limit.REQUESTS_PER_MINUTE, 60, principal, tool.cost)

    def check_capacity(self, principal: Principal, tool: Tool, args) -> None:
        for capacity in tool.capacity:
            self._hit(capacity.limit, capacity.seconds, principal, int(capacity.units(args)))

    def concurrency(self, principal: Principal) -> "Slot":
        """Holds one of the tenant's concurrent-call slots for a `with` block; refuses when none is free."""
        return Slot(self, principal)

    def _hit(self, limit: str, seconds: int, principal: Principal, cost: int) -> None:
        maximum = principal.limits[limit]
        if maximum <= 0:
            raise limit_exceeded(limit, max(1, cost), maximum)
        # A call larger than the whole budget waits for an empty window and then takes all of it (DynamoDB's
        # burst capacity lets such a write through, too): it can always run, and the tenant's throughput stays
        # bounded by one such call per window. Telling it to retry would be a lie; refusing it would make
        # values the plan allows impossible to store.
        cost = min(max(1, cost), maximum)
        if self._outage is None:  # process memory: nothing to fail
            wait = self._windows.hit(limit, principal.tenant_id, maximum, seconds, cost)
        else:
            wait = self._store(lambda: self._windows.hit(limit, principal.tenant_id, maximum, seconds, cost))
        if wait is not None:
            raise rate_limited(limit, max(1, math.ceil(wait * 1000)), maximum)

    def _store(self, operation: Callable[[], T]) -> T:
        if self._outage is None:
            return operation()
        started = time.monotonic()
        try:
            result = operation()
        except STORE_ERRORS as exc:
            self._outage.failed(exc)
            raise limits_unavailable() from None
        self._outage.succeeded(started)
        return result

    def _release(self, tenant_id: str, owner: str) -> None:
        if self._outage is None:
            self._gate.release(tenant_id, owner)
            return
        started = time.monotonic()
        try:
            self._gate.release(tenant_id, owner)
        except STORE_ERRORS as exc:
            self._outage.failed(exc)
        else:
            self._outage.succeeded(started)


class Slot:
    """A concurrent-call slot of a tenant, held from __enter__ to __exit__ (a class, not a generator context
    manager: every governed call takes one)."""

    __slots__ = ("_limiter", "_principal", "_owner")

    def __init__(self, limiter: Limiter, principal: Principal):
        self._limiter, self._principal = limiter, principal

    def __enter__(self) -> None:
        limiter, principal = self._limiter, self._principal
        maximum = principal.limits[Limit.MAX_CONCURRENT_REQUESTS]
        if maximum <= 0:
            raise limit_exceeded(Limit.MAX_CONCURRENT_REQUESTS, 1, maximum)
        owner = limiter._gate.new_owner()
        if not limiter._store(lambda: limiter._gate.acquire(principal.tenant_id, owner, maximum)):
            raise rate_limited(Limit.MAX_CONCURRENT_REQUESTS, _CONCURRENCY_RETRY_MS, maximum)
        self._owner = owner

    def __exit__(self, *exc_info) -> None:
        self._limiter._release(self._principal.tenant_id, self._owner)


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

    def __init__(self, url: str, pool: redis.ConnectionPool):
        self._windows = MovingWindowRateLimiter(storage_from_string(url, connection_pool=pool))

    def hit(self, limit: str, tenant_id: str, maximum: int, seconds: int, cost: int) -> float | None:
        if not 0 < cost <= maximum:
            return float(seconds)  # never fits
        item = _WINDOW_ITEMS[seconds](maximum)
        if self._windows.hit(item, limit, tenant_id, cost=cost):
            return None
        return self._windows.get_window_stats(item, limit, tenant_id).reset_time - time.time()


class LocalConcurrencyGate:
    """Leases in this process: tenant -> {owner: deadline on the monotonic clock}."""

    def __init__(self, lease_seconds: float):
        self._lease_seconds = lease_seconds
        self._lock = threading.Lock()
        self._leases: dict[str, dict[str, float]] = {}
        self._owners = itertools.count()

    def new_owner(self) -> str:
        """A lease owner id, unique within this process (which is all that holds these leases)."""
        return str(next(self._owners))

    def acquire(self, tenant_id: str, owner: str, maximum: int) -> bool:
        now = time.monotonic()
        with self._lock:
            leases = self._leases.setdefault(tenant_id, {})
            for expired in [held for held, deadline in leases.items() if deadline <= now]:
                del leases[expired]
            if len(leases) >= maximum:
                return False
            leases[owner] = now + self._lease_seconds
            return True

    def release(self, tenant_id: str, owner: str) -> None:
        with self._lock:
            leases = self._leases.get(tenant_id)
            if leases is not None:
                leases.pop(owner, None)
                if not leases:
                    del self._leases[tenant_id]

    def held(self, tenant_id: str) -> int:
        now = time.monotonic()
        with self._lock:
            return sum(1 for deadline in self._leases.get(tenant_id, {}).values() if deadline > now)


# Deadlines are on Redis's own clock, so server processes with skewed clocks agree on when a lease lapses.
_ACQUIRE = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then
  return 0
end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[3])
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
redis.call('PEXPIREAT', KEYS[1], last[2])
return 1
"""
_HELD = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
return redis.call('ZCOUNT', KEYS[1], '(' .. now, '+inf')
"""


class RedisConcurrencyGate:
    """Leases in Redis, shared by every server process: a sorted set per tenant of owner -> deadline (ms).

    Acquiring drops lapsed leases, counts and adds in one script; a refused acquire writes nothing. The key
    itself expires with its last lease, so an idle tenant leaves nothing behind."""

    def __init__(self, client: redis.Redis, lease_seconds: float):
        self._redis = client
        self._lease_ms = max(1, int(lease_seconds * 1000))
        self._acquire = client.register_script(_ACQUIRE)
        self._held = client.register_script(_HELD)

    @staticmethod
    def key(tenant_id: str) -> str:
        return f"mcp:leases:{tenant_id}"

    @staticmethod
    def new_owner() -> str:
        """A lease owner id unique across every process sharing the Redis."""
        return uuid.uuid4().hex

    def acquire(self, tenant_id: str, owner: str, maximum: int) -> bool:
        return bool(self._acquire(keys=[self.key(tenant_id)], args=[maximum, self._lease_ms, owner]))

    def release(self, tenant_id: str, owner: str) -> None:
        self._redis.zrem(self.key(tenant_id), owner)

    def held(self, tenant_id: str) -> int:
        return int(self._held(keys=[self.key(tenant_id)]))
