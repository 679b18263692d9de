"""Refused MCP sessions, audited without letting a client that retries against its cap fill the audit log.

The first refusal of a key for a reason in a window is recorded as it happens; the others of that window are
counted and recorded as one event carrying their count when the window closes (or the server stops). Memory
holds one entry per refused key and reason, and only keys that resolved reach it.
"""

import threading
import time
from dataclasses import dataclass


@dataclass
class _Window:
    started: float
    event: dict
    repeats: int = 0


class RefusalTally:
    def __init__(self, window_seconds: float = 60):
        self.window_seconds = window_seconds
        self._lock = threading.Lock()
        self._open: dict[tuple, _Window] = {}

    def first(self, key: tuple, event: dict) -> bool:
        """Count a refusal; True when it opens a window (record it now), False when it is a repeat."""
        with self._lock:
            window = self._open.get(key)
            if window is not None:
                window.repeats += 1
                return False
            self._open[key] = _Window(time.monotonic(), event)
            return True

    def closed(self, *, everything: bool = False) -> list[dict]:
        """Events summing up the repeats of windows that ended (all of them when `everything`)."""
        cutoff = time.monotonic() - self.window_seconds
        summaries = []
        with self._lock:
            for key, window in list(self._open.items()):
                if everything or window.started <= cutoff:
                    del self._open[key]
                    if window.repeats:
                        event = dict(window.event)
                        event["details"] = {**event["details"], "count": window.repeats, "repeated": True}
                        summaries.append(event)
        return summaries
