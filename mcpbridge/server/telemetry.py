"""Audit events and usage counters of tool calls, buffered in memory and written in batches.

One INSERT and one UPDATE per call would dominate a fast tool call, so the call only appends to a buffer;
the server's background loop flushes it every half second (one multi-row INSERT) and once more at shutdown.
"""

import logging
import threading
from collections import Counter

from django.db import close_old_connections, transaction

from controlplane.database import DATABASE_UNAVAILABLE, database_outage
from mcpbridge.server.metrics import observe_call
from tenants.services import Actor, AuthRefusal, audit_record_many, audit_refusals, usage_increment

logger = logging.getLogger(__name__)

# Past this many unwritten events the buffer stops growing (the database is down); the drop is logged.
_MAX_BUFFERED = 50_000

METRIC_TOOL_CALLS = "mcp_tool_calls"
METRIC_TOOL_REFUSED = "mcp_tool_refused"


class Telemetry:
    def __init__(self):
        self._lock = threading.Lock()
        self._events: list[dict] = []
        self._usage: Counter = Counter()
        # Refusals of unauthenticated callers, already counted per bucket: a flood costs memory per bucket only.
        self._refusals: Counter = Counter()

    def record(
        self,
        *,
        actor: Actor,
        tenant_id: str | None,
        target: str,
        outcome: str,
        latency_ms: float | None = None,
        details: dict | None = None,
        usage_metric: str | None = None,
    ) -> None:
        details = details or {}
        observe_call(
            tenant_id=tenant_id,
            tool=details.get("tool", target),
            outcome=outcome,
            latency_ms=latency_ms,
            limit=details.get("limit"),
        )
        event = dict(
            actor=actor,
            target=target,
            tenant_id=tenant_id,
            outcome=outcome,
            latency_ms=latency_ms,
            details=details,
        )
        with self._lock:
            if len(self._events) < _MAX_BUFFERED:
                self._events.append(event)
            else:
                logger.error("Audit buffer full; dropping an event for %s", target)
            if tenant_id and usage_metric:
                self._usage[(tenant_id, usage_metric)] += 1

    def record_refusal(self, refusal: AuthRefusal, *, usage_metric: str | None = None) -> None:
        """An unauthenticated caller refused: counted into its per-minute audit row at the next flush."""
        tool = refusal.target.removeprefix("tool:")
        observe_call(tenant_id=refusal.tenant_id, tool=tool, outcome=refusal.outcome, latency_ms=None, limit=None)
        with self._lock:
            if refusal in self._refusals or len(self._refusals) < _MAX_BUFFERED:
                self._refusals[refusal] += 1
            else:
                logger.error("Refusal buffer full; dropping a refusal of %s", refusal.actor)
            if refusal.tenant_id and usage_metric:
                self._usage[(refusal.tenant_id, usage_metric)] += 1

    def flush(self) -> int:
        with self._lock:
            events, self._events = self._events, []
            usage, self._usage = self._usage, Counter()
            refusals, self._refusals = self._refusals, Counter()
        if not events and not usage and not refusals:
            return 0
        close_old_connections()
        try:
            with transaction.atomic():
                audit_record_many(events)
                for (tenant_id, metric), amount in usage.items():
                    usage_increment(tenant_id=tenant_id, metric=metric, amount=amount)
                audit_refusals(refusals)
        except Exception as exc:
            if isinstance(exc, DATABASE_UNAVAILABLE):
                database_outage.failed(exc)  # one line per outage; the next flush retries on a new connection
            else:
                logger.exception("Could not write %d audit events; they stay buffered", len(events))
            with self._lock:
                self._events[:0] = events[: _MAX_BUFFERED - len(self._events)]
                self._usage.update(usage)
                self._refusals.update(refusals)
            return 0
        return len(events)
