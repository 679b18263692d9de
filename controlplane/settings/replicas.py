"""Several HTTP server processes behind one load balancer: session routing and resumable event streams."""

from controlplane.settings.env import read_int, read_str

# This process's name among the replicas, put in front of its session ids (`<id>.<random>`) so the balancer can
# send a session's requests back to the process that holds it. Empty: plain session ids (one process).
MCP_REPLICA_ID = read_str(
    "MCP_REPLICA_ID", "", pattern=r"[A-Za-z0-9_-]{1,32}", what="1-32 letters, digits, '-' or '_'", example="r1",
    min_length=0,
)
# With REDIS_URL, each session's SSE events are kept in Redis so a client can reconnect with Last-Event-ID:
# at most this many events and bytes per session, for this long after the session's last event.
MCP_SSE_RETRY_MS = read_int("MCP_SSE_RETRY_MS", 1000, minimum=1, example="1000")
MCP_SSE_HISTORY_SECONDS = read_int("MCP_SSE_HISTORY_SECONDS", 300, minimum=1, example="300")
MCP_SSE_HISTORY_MAX_EVENTS = read_int("MCP_SSE_HISTORY_MAX_EVENTS", 200, minimum=1, example="200")
MCP_SSE_HISTORY_MAX_BYTES = read_int("MCP_SSE_HISTORY_MAX_BYTES", 1024 * 1024, minimum=1, example="1048576")
