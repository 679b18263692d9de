"""Database connections in long-running serving processes.

MCP requests run in worker threads outside Django's request cycle: their connections are kept between
units of work (CONN_MAX_AGE), checked once before each reuse (CONN_HEALTH_CHECKS) and replaced when the
database dropped them, instead of failing the next request. Adapters recognise a lost database by
DATABASE_UNAVAILABLE and answer 503 with Retry-After (HTTP) or -32003 (JSON-RPC), never a raw 500.
"""

import logging
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager

from django.db import InterfaceError, OperationalError, close_old_connections, connection, connections, transaction

logger = logging.getLogger(__name__)

DATABASE_UNAVAILABLE = (OperationalError, InterfaceError)
RETRY_AFTER_SECONDS = 1
UNAVAILABLE_MESSAGE = "The database is unavailable right now; retry shortly."
_OUTAGE_LOG_EVERY_SECONDS = 30.0


def keep_connections(max_age: int) -> None:
    """For a serving process: reuse each thread's connection for up to max_age seconds, health-checked."""
    for alias in connections:
        settings_dict = connections[alias].settings_dict
        if not settings_dict.get("CONN_MAX_AGE"):
            settings_dict["CONN_MAX_AGE"] = max_age
        settings_dict["CONN_HEALTH_CHECKS"] = True


def close_request_connections(**_kwargs) -> None:
    """request_finished receiver for the ASGI deployment: Django runs each request's sync code in a thread of
    its own that is never reused, so a connection kept past the request would only leak. (Not inside an
    atomic block: that is a test's transaction, not a request's connection.)"""
    for conn in connections.all(initialized_only=True):
        if not conn.in_atomic_block:
            conn.close()


class WriteNotStored(OperationalError):
    """The database connection was lost and the write is provably not stored: nothing of it was committed, or
    its COMMIT's answer was lost and a read on a new connection does not find it. Safe to retry.
    An OperationalError, so every adapter that answers a lost database (503, -32003) answers this too."""


@contextmanager
def certain_write(stored: Callable[[], bool]):
    """One transaction for a write whose answer must match what the database holds.

    When the connection is lost inside the block, the transaction dies with it: WriteNotStored. When it is lost
    at the COMMIT (the answer never came, the commit may or may not have happened), `stored()` runs on a new
    connection: true means the write committed and the block ends normally, so the caller answers success;
    false raises WriteNotStored. If that read cannot reach the database either, the original error propagates
    (the outcome is genuinely unknown). Only after an error is anything read: the success path is the
    transaction alone. Inside an outer transaction the outer one commits, so this is a plain savepoint.
    """
    if connection.in_atomic_block:
        with transaction.atomic():
            yield
        return
    reached_commit = False
    try:
        with transaction.atomic():
            yield
            reached_commit = True
    except DATABASE_UNAVAILABLE as exc:
        if not reached_commit:
            raise WriteNotStored(f"the connection was lost before the commit: {exc}") from exc
        _settle(exc, stored, "the commit's answer was lost and the write is not stored")


@contextmanager
def certain_statement(stored: Callable[[], bool]):
    """certain_write for a block that is one statement in autocommit (no BEGIN, no COMMIT of its own): the
    statement and its commit are one round trip, so a connection lost during it leaves the outcome unknown
    until `stored()` tells, on a new connection. Inside an outer transaction the outer one decides."""
    if connection.in_atomic_block:
        yield
        return
    try:
        yield
    except DATABASE_UNAVAILABLE as exc:
        _settle(exc, stored, "the connection was lost during the write and it is not stored")


def _settle(exc: Exception, stored: Callable[[], bool], not_stored: str) -> None:
    """After `exc` left a write's outcome unknown: read it back on a new connection. Stored: return (success).
    Not stored: WriteNotStored. The read cannot reach the database either: `exc` itself (genuinely unknown)."""
    database_outage.failed(exc)
    try:
        connection.close()
        found = stored()
    except DATABASE_UNAVAILABLE:
        raise exc from None
    if not found:
        raise WriteNotStored(f"{not_stored}: {exc}") from exc


def read_on_kept_connection(function, *args):
    """Run a short read-only unit of work in a worker thread on the thread's kept connection, with no health check
    up front (with CONN_HEALTH_CHECKS every check is a round trip to the database, and this runs on every
    request): a connection the database dropped fails the first query, and the unit then runs once more on a
    new one. Connections past their age are closed by the units of work that do check (the MCP calls)."""
    try:
        return function(*args)
    except DATABASE_UNAVAILABLE:
        close_old_connections()
        return function(*args)


class OutageLog:
    """One warning when a dependency starts failing (and at most every 30 s while it keeps failing), one line
    when it works again: never a traceback per request."""

    def __init__(self, name: str):
        self.name = name
        self._lock = threading.Lock()
        self._failing_since: float | None = None
        self._last_logged = 0.0

    def failed(self, exc: BaseException) -> None:
        now = time.monotonic()
        with self._lock:
            if self._failing_since is None:
                self._failing_since = now
            elif now - self._last_logged < _OUTAGE_LOG_EVERY_SECONDS:
                return
            self._last_logged = now
        logger.warning("%s unavailable: %s", self.name, str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__)

    def succeeded(self) -> None:
        if self._failing_since is None:
            return
        with self._lock:
            since, self._failing_since = self._failing_since, None
        if since is not None:
            logger.warning("%s available again after %.1f s", self.name, time.monotonic() - since)


database_outage = OutageLog("Database")
