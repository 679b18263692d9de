"""Several HTTP server processes behind one load balancer: session routing and resumable event streams."""

import re

from django.core.exceptions import ImproperlyConfigured

from controlplane.settings.env import env

# This process's name among the replicas, put in front of its session ids (`<id>.<random>`) so the balancer can
# send a session's requests back to the process that holds it. Empty: plain session ids (one process).
MCP_REPLICA_ID = env.str("MCP_REPLICA_ID", default="").strip()
if MCP_REPLICA_ID and not re.fullmatch(r"[A-Za-z0-9_-]{1,32}", MCP_REPLICA_ID):
    raise ImproperlyConfigured(
        f"MCP_REPLICA_ID={MCP_REPLICA_ID!r} is not valid: use 1-32 letters, digits, '-' or '_' (e.g. r1)."
    )
# With REDIS_URL, each session's SSE events are kept in Redis so a client can reconnect with Last-Event-ID:
# at most this many events and bytes per session, for this long after the session's last event.
MCP_SSE_RETRY_MS = env.int("MCP_SSE_RETRY_MS", default=1000)
MCP_SSE_HISTORY_SECONDS = env.int("MCP_SSE_HISTORY_SECONDS", default=300)
MCP_SSE_HISTORY_MAX_EVENTS = env.int("MCP_SSE_HISTORY_MAX_EVENTS", default=200)
MCP_SSE_HISTORY_MAX_BYTES = env.int("MCP_SSE_HISTORY_MAX_BYTES", default=1024 * 1024)
for _name in ("MCP_SSE_RETRY_MS", "MCP_SSE_HISTORY_SECONDS", "MCP_SSE_HISTORY_MAX_EVENTS", "MCP_SSE_HISTORY_MAX_BYTES"):
    if globals()[_name] <= 0:
        raise ImproperlyConfigured(f"{_name}={globals()[_name]} is not valid: give a positive number.")
