"""Shared stores that can go away (Redis): their errors, and one log line when one fails and one when it is back.

A store that is down fails every request; logging each failure (with a traceback) would flood the log, so each
process logs the first failure of an outage and the first success after it, with how long it lasted.
"""

import logging
import threading
import time
from urllib.parse import urlsplit

from django.conf import settings
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

# What a Redis-backed store raises when it is unreachable, stalled or refusing commands.
STORE_ERRORS: tuple[type[BaseException], ...] = (RedisError, OSError)


class Outage:
    def __init__(self, store: str, consequence: str):
        self.store = store
        self.consequence = consequence
        self._lock = threading.Lock()
        self._since: float | None = None
        self._failures = 0

    def failed(self, exc: BaseException) -> None:
        with self._lock:
            self._failures += 1
            if self._since is not None:
                return
            self._since = time.monotonic()
        logger.error("%s is unavailable (%s: %s); %s", self.store, type(exc).__name__, exc, self.consequence)

    def succeeded(self, started: float) -> None:
        """An operation that began at `started` (time.monotonic()) worked. One that began before the outage was
        noticed says nothing about recovery: it may have been answered just before the store went away."""
        if self._since is None:  # the common case: no lock, no work
            return
        with self._lock:
            if self._since is None or started < self._since:
                return
            lasted, failures = time.monotonic() - self._since, self._failures
            self._since, self._failures = None, 0
        logger.warning("%s is back after %.1f s (%d operations failed meanwhile)", self.store, lasted, failures)


_outages: dict[str, Outage] = {}
_outages_lock = threading.Lock()
_CONSEQUENCE = (
    "until it is back, API keys are resolved from the database, and what its limits guard is refused "
    "(MCP: -32003, APIs: 503 with Retry-After)"
)


def store_outage(url: str) -> Outage:
    """The one outage record of the store at `url` in this process, shared by everything that uses that store (the
    cache, the MCP limits and the API limits are often one Redis: one outage, one line)."""
    with _outages_lock:
        record = _outages.get(url)
        if record is None:
            record = _outages[url] = Outage(_display(url), _CONSEQUENCE)
        return record


def cache_outage() -> Outage:
    """The outage record of the default Django cache's store (Redis when REDIS_URL is set)."""
    return store_outage(str(settings.CACHES["default"].get("LOCATION") or "cache"))


def _display(url: str) -> str:
    parts = urlsplit(url)
    if not parts.hostname:
        return url
    return f"Redis at {parts.hostname}:{parts.port or 6379}{parts.path or ''}"  # never the password
