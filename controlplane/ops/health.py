"""Readiness of each dependency this process needs. A check returns nothing or raises; the caller times it.

Only configured dependencies are checked: Redis when REDIS_URL is set (shared limits and policy cache), the
broker when CELERY_BROKER_URL is set. Every one that is checked is required: a process that cannot reach it
would refuse or degrade the calls that need it.
"""

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import redis
from django.conf import settings
from django.db import connection

from mcpbridge.dataplane.readiness import probe_data_plane

_TIMEOUT_SECONDS = 2.0


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    latency_ms: float
    # A fixed word, never the exception's text: the endpoint is unauthenticated and must not reveal hosts.
    error: str = ""


def check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def check_redis() -> None:
    client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=_TIMEOUT_SECONDS, socket_connect_timeout=_TIMEOUT_SECONDS)
    try:
        client.ping()
    finally:
        client.close()


def check_broker() -> None:
    from kombu import Connection

    with Connection(settings.CELERY_BROKER_URL, connect_timeout=_TIMEOUT_SECONDS) as broker:
        broker.ensure_connection(max_retries=1, timeout=_TIMEOUT_SECONDS)


def configured_checks() -> dict[str, Callable[[], None]]:
    checks: dict[str, Callable[[], None]] = {"database": check_database}
    if settings.REDIS_URL:
        checks["redis"] = check_redis
    if settings.CELERY_BROKER_URL:
        checks["broker"] = check_broker
    checks["dataplane"] = probe_data_plane
    return checks


# /readyz is open to anyone: each run opens a Redis and a broker connection and reads the data plane (AWS calls on
# the aws backend). Within this many seconds of a run, probes get its results again, so a flood of probes costs the
# dependencies one run a second per process; a real probe every few seconds always gets a fresh run.
REUSE_SECONDS = 1.0
_last_run: tuple[float, list["CheckResult"]] | None = None
_run_lock = threading.Lock()


def readiness() -> list["CheckResult"]:
    """The checks' results, run now or reused from a run less than REUSE_SECONDS ago (one run at a time)."""
    global _last_run
    with _run_lock:
        if _last_run is not None and time.monotonic() - _last_run[0] < REUSE_SECONDS:
            return _last_run[1]
        results = run_checks()
        _last_run = (time.monotonic(), results)
        return results


def run_checks() -> list[CheckResult]:
    results = []
    for name, check in configured_checks().items():
        started = time.perf_counter()
        try:
            check()
        except Exception as exc:  # any failure means "not ready"; the type name is safe to show
            results.append(CheckResult(name, False, _elapsed(started), _error_kind(exc)))
        else:
            results.append(CheckResult(name, True, _elapsed(started)))
    return results


def _elapsed(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)


def _error_kind(exc: Exception) -> str:
    if isinstance(exc, (TimeoutError, redis.TimeoutError)):
        return "timeout"
    if isinstance(exc, (ConnectionError, OSError, redis.ConnectionError)):
        return "unreachable"
    return "failed"
