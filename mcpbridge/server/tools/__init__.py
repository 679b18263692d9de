"""The registry of every tool the bridge serves, declared once each."""

from django.conf import settings

from mcpbridge.server.registry import ToolRegistry
from mcpbridge.server.tools import data, diagnostics, identity


def default_registry() -> ToolRegistry:
    tools = [*identity.TOOLS, *data.TOOLS]
    if settings.MCP_DIAGNOSTIC_TOOLS:
        tools.extend(diagnostics.TOOLS)
    return ToolRegistry(tools)
