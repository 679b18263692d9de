"""Baseline for bench/mcp_bench.py: a bare SDK low-level server doing the same work as the governed server
(tools/call whoami: resolve the API key, describe the principal; tools/list: the same tool listings an admin
key sees), with no pipeline, sessions, limits or audit.

    python bench/mcp_bare_server.py stdio <api key>
    python bench/mcp_bare_server.py http <port>       (bearer key in each request)
"""

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "controlplane.settings")

import django  # noqa: E402

django.setup()

import anyio  # noqa: E402
import mcp_types as types  # noqa: E402
import uvicorn  # noqa: E402
from anyio import to_thread  # noqa: E402
from mcp.server.lowlevel import Server  # noqa: E402
from mcp.server.stdio import stdio_server  # noqa: E402
from mcp.server.transport_security import TransportSecuritySettings  # noqa: E402

from mcpbridge.server.tools import default_registry  # noqa: E402
from mcpbridge.server.tools.identity import describe  # noqa: E402
from tenants.policy import resolve_api_key  # noqa: E402

TOOLS = [tool.as_mcp() for tool in default_registry()]


def build(raw_key_of) -> Server:
    async def list_tools(ctx, params):
        return types.ListToolsResult(tools=TOOLS)

    async def call_tool(ctx, params):
        payload = await to_thread.run_sync(lambda: describe(resolve_api_key(raw_key_of(ctx))))
        return types.CallToolResult(content=[types.TextContent(type="text", text=str(payload))], structured_content=payload)

    return Server("bare", on_list_tools=list_tools, on_call_tool=call_tool)


def main():
    mode, arg = sys.argv[1], sys.argv[2]
    if mode == "stdio":
        server = build(lambda ctx: arg)

        async def run():
            async with stdio_server() as (read, write):
                await server.run(read, write, server.create_initialization_options())

        anyio.run(run)
    else:
        def bearer(ctx):
            return ctx.request.headers["authorization"].removeprefix("Bearer ")

        app = build(bearer).streamable_http_app(
            transport_security=TransportSecuritySettings(allowed_hosts=["127.0.0.1:*"], allowed_origins=[])
        )
        uvicorn.run(app, host="127.0.0.1", port=int(arg), log_level="warning")


if __name__ == "__main__":
    main()
