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
# A concurrency slot (lease) held by a call that never released it lapses after this long. Longer than any call
# may run: AWS calls are bounded by AWS_CONNECT_TIMEOUT + AWS_READ_TIMEOUT per attempt x AWS_MAX_ATTEMPTS.
MCP_CONCURRENCY_LEASE_SECONDS = env.float("MCP_CONCURRENCY_LEASE_SECONDS", default=30)
