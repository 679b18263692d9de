from mcpbridge.admin import sessions  # noqa: F401
