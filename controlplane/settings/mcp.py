from controlplane.settings.env import env

MCP_API_KEY_ENV = "CONTROLPLANE_API_KEY"
MCP_ALLOWED_HOSTS = env.list("MCP_ALLOWED_HOSTS", default=["127.0.0.1:*", "localhost:*", "[::1]:*"])
MCP_ALLOWED_ORIGINS = env.list(
    "MCP_ALLOWED_ORIGINS", default=["http://127.0.0.1:*", "http://localhost:*", "http://[::1]:*"]
)
MCP_PUBLIC_URL = env.str("MCP_PUBLIC_URL", default="http://127.0.0.1:8000")
MCP_SESSION_IDLE_SECONDS = env.int("MCP_SESSION_IDLE_SECONDS", default=1800)
