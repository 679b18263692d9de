"""The MCP tools by name and the capability each needs (None: any valid key may call it),
read from the MCP bridge's registry so the decision API and the bridge can never disagree."""

from functools import cache


@cache
def tool_capabilities() -> dict[str, str | None]:
    from mcpbridge.server.tools import default_registry  # the registry imports the data-plane services

    return {tool.name: tool.capability for tool in default_registry()}
