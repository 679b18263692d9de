"""/metrics in Prometheus' text format: the counters of this process (or of every process, in
prometheus-client's multiprocess mode) and gauges read from the database at scrape time.

Access: with METRICS_BEARER_TOKEN set, a scrape must send it as a bearer token (compared in constant time);
without it, only scrapes from a loopback address that no proxy forwarded are answered, so nothing is exposed by
default, not even behind nginx on the same machine.
"""

import hmac
import ipaddress
import os

from django.conf import settings
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily

from mcpbridge.selectors import open_sessions_by_transport, outbox_backlog


class DatabaseStateCollector:
    """Gauges whose truth is in the database (shared by every process), read once per scrape."""

    def collect(self):
        backlog = outbox_backlog()
        yield GaugeMetricFamily(
            "controlplane_outbox_pending_events", "Events accepted but not yet delivered.", value=backlog.pending
        )
        yield GaugeMetricFamily(
            "controlplane_outbox_parked_events", "Events parked after repeated rejections.", value=backlog.parked
        )
        yield GaugeMetricFamily(
            "controlplane_outbox_oldest_pending_age_seconds",
            "Age of the oldest undelivered event (0 when none).",
            value=backlog.oldest_pending_age_seconds,
        )
        sessions = GaugeMetricFamily(
            "controlplane_mcp_open_sessions", "MCP sessions not ended yet, by transport.", labels=["transport"]
        )
        for transport, count in sorted(open_sessions_by_transport().items()):
            sessions.add_metric([transport], count)
        yield sessions


_database_registry = CollectorRegistry(auto_describe=False)
_database_registry.register(DatabaseStateCollector())


def render_metrics() -> bytes:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        process_registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(process_registry)
    else:
        process_registry = REGISTRY
    return generate_latest(process_registry) + generate_latest(_database_registry)


# Headers a reverse proxy adds when it forwards a request: such a request came from elsewhere, whatever address the
# proxy connected from (nginx on the same machine connects from 127.0.0.1 for every outside client).
FORWARDING_HEADERS = ("X-Forwarded-For", "Forwarded", "X-Real-IP")


def scrape_allowed(*, authorization: str, remote_addr: str, forwarded: bool = False) -> bool:
    token = settings.METRICS_BEARER_TOKEN
    if token:
        scheme, _, presented = authorization.partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(presented.encode(), token.encode())
    if forwarded:
        return False
    try:
        return ipaddress.ip_address(remote_addr).is_loopback
    except ValueError:
        return False
