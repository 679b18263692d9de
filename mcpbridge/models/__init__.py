from mcpbridge.models.sessions import McpSession

__all__ = ["McpSession"]
