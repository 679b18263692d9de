from controlplane.settings.env import as_text, read_bool, read_float, read_int, read_list, read_url

MCP_API_KEY_ENV = "CONTROLPLANE_API_KEY"
# Host header patterns (host:port, port may be *) and Origin patterns the DNS-rebinding protection accepts.
MCP_ALLOWED_HOSTS = read_list(
    "MCP_ALLOWED_HOSTS", ["127.0.0.1:*", "localhost:*", "[::1]:*"],
    item=as_text(r"[A-Za-z0-9_.\[\]:*-]+", "a host:port pattern (no scheme or path)"), example="mcp.example.com:443,127.0.0.1:*",
)
MCP_ALLOWED_ORIGINS = read_list(
    "MCP_ALLOWED_ORIGINS", ["http://127.0.0.1:*", "http://localhost:*", "http://[::1]:*"],
    item=as_text(r"https?://[A-Za-z0-9_.\[\]:*-]+", "an origin such as https://host or http://host:*"),
    example="https://app.example.com",
)
MCP_PUBLIC_URL = read_url("MCP_PUBLIC_URL", "http://127.0.0.1:8000", schemes=("http", "https"), allow_empty=False,
                          example="https://mcp.example.com")
MCP_SESSION_IDLE_SECONDS = read_int("MCP_SESSION_IDLE_SECONDS", 1800, minimum=1, example="1800")
# How often each server process checks the policy version, revoked and idle sessions, and writes buffered audit.
MCP_WATCH_INTERVAL_SECONDS = read_float("MCP_WATCH_INTERVAL_SECONDS", 0.5, above=True, example="0.5")
MCP_HTTP_JSON_RESPONSE = read_bool("MCP_HTTP_JSON_RESPONSE", False)
# SIGTERM over HTTP: seconds running requests (and open event streams) get before the process exits.
MCP_SHUTDOWN_GRACE_SECONDS = read_int("MCP_SHUTDOWN_GRACE_SECONDS", 5, example="5")
MCP_DB_CONN_MAX_AGE = read_int("MCP_DB_CONN_MAX_AGE", 300, example="300")
# Adds a `diagnostics_sleep` tool (tests and benchmarks only).
MCP_DIAGNOSTIC_TOOLS = read_bool("MCP_DIAGNOSTIC_TOOLS", False)
# A concurrency slot (lease) held by a call that never released it lapses after this long. Longer than any call
# may run: AWS calls are bounded by AWS_CONNECT_TIMEOUT + AWS_READ_TIMEOUT per attempt x AWS_MAX_ATTEMPTS.
MCP_CONCURRENCY_LEASE_SECONDS = read_float("MCP_CONCURRENCY_LEASE_SECONDS", 30.0, above=True, example="30")
# A Streamable HTTP session with no request in flight and no open event stream for this long is a client
# that went away without DELETE: its session is ended and its slot freed.
MCP_SESSION_RECLAIM_GRACE_SECONDS = read_int("MCP_SESSION_RECLAIM_GRACE_SECONDS", 60, minimum=1, example="60")
# Session-opening requests (initialize) over HTTP, per API key and per client address, answered before any
# session state exists.
MCP_INITIALIZE_RATE_PER_MINUTE_PER_KEY = read_int("MCP_INITIALIZE_RATE_PER_MINUTE_PER_KEY", 60, minimum=1, example="60")
MCP_INITIALIZE_RATE_PER_MINUTE_PER_ADDRESS = read_int(
    "MCP_INITIALIZE_RATE_PER_MINUTE_PER_ADDRESS", 300, minimum=1, example="300"
)
