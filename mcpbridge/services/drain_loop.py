"""A background drain loop for a serving process that has no Celery worker (the embedded default).

Woken right after a commit that queued work, and again when work it left behind comes due (a backoff, a
paused bus); otherwise it looks every `poll_seconds` (work queued by other processes). Requests only wake
it: none ever waits for a drain.
"""

import logging
import threading
from collections.abc import Callable

from django.db import close_old_connections

from controlplane.database import DATABASE_UNAVAILABLE, database_outage

logger = logging.getLogger(__name__)

_SOONEST_SECONDS = 0.05


class DrainLoop:
    def __init__(self, name: str, drain: Callable[[], float | None], poll_seconds: Callable[[], float]):
        """`drain` does one round and returns the seconds until work it left is due (None: nothing left)."""
        self.name = name
        self._drain = drain
        self._poll_seconds = poll_seconds
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        if self.running:
            return
        self._stop.clear()
        self._wake.set()  # a first round at once: entries left pending by an earlier process
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self._thread = None

    def _run(self) -> None:
        wait = 0.0
        while not self._stop.is_set():
            self._wake.wait(timeout=wait)
            self._wake.clear()
            if self._stop.is_set():
                break
            wait = self._round()
        close_old_connections()

    def _round(self) -> float:
        poll = self._poll_seconds()
        try:
            close_old_connections()
            due_in = self._drain()
        except DATABASE_UNAVAILABLE as exc:
            database_outage.failed(exc)
            return poll
        except Exception:
            logger.exception("%s failed; trying again in %.0f s", self.name, poll)
            return poll
        return poll if due_in is None else min(max(due_in, _SOONEST_SECONDS), poll)
