from controlplane.settings.env import env

MCP_API_KEY_ENV = "CONTROLPLANE_API_KEY"
MCP_ALLOWED_HOSTS = env.list("MCP_ALLOWED_HOSTS", default=["127.0.0.1:*", "localhost:*", "[::1]:*"])
MCP_ALLOWED_ORIGINS = env.list(
    "MCP_ALLOWED_ORIGINS", default=["http://127.0.0.1:*", "http://localhost:*", "http://[::1]:*"]
)
MCP_PUBLIC_URL = env.str("MCP_PUBLIC_URL", default="http://127.0.0.1:8000")
MCP_SESSION_IDLE_SECONDS = env.int("MCP_SESSION_IDLE_SECONDS", default=1800)
# How often each server process checks the policy version, revoked and idle sessions, and writes buffered audit.
MCP_WATCH_INTERVAL_SECONDS = env.float("MCP_WATCH_INTERVAL_SECONDS", default=0.5)
MCP_HTTP_JSON_RESPONSE = env.bool("MCP_HTTP_JSON_RESPONSE", default=False)
# SIGTERM over HTTP: seconds running requests (and open event streams) get before the process exits.
MCP_SHUTDOWN_GRACE_SECONDS = env.int("MCP_SHUTDOWN_GRACE_SECONDS", default=5)
MCP_DB_CONN_MAX_AGE = env.int("MCP_DB_CONN_MAX_AGE", default=300)
# Adds a `diagnostics_sleep` tool (tests and benchmarks only).
MCP_DIAGNOSTIC_TOOLS = env.bool("MCP_DIAGNOSTIC_TOOLS", default=False)
# A Streamable HTTP session with no request in flight and no open event stream for this long is a client
# that went away without DELETE: its session is ended and its slot freed.
MCP_SESSION_RECLAIM_GRACE_SECONDS = env.int("MCP_SESSION_RECLAIM_GRACE_SECONDS", default=60)
# Session-opening requests (initialize) over HTTP, per API key and per client address, answered before any
# session state exists.
MCP_INITIALIZE_RATE_PER_MINUTE_PER_KEY = env.int("MCP_INITIALIZE_RATE_PER_MINUTE_PER_KEY", default=60)
MCP_INITIALIZE_RATE_PER_MINUTE_PER_ADDRESS = env.int("MCP_INITIALIZE_RATE_PER_MINUTE_PER_ADDRESS", default=300)
