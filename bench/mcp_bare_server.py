"""Baseline for the MCP benches: a bare SDK low-level server with no pipeline, sessions, limits or audit.

- whoami (bench/mcp_bench.py): resolves the API key and describes the principal, as the governed tool does.
- kv_get / kv_set (bench/mcp_cpu_bench.py): resolve no key at all; they make the same storage calls as the
  governed tools (the local KV adapter's get, and put updating an existing item) in the namespace given by
  BENCH_KV_NAMESPACE, so the governed/bare ratio is the whole cost of governance.
- tools/list: the same tool listings an admin key sees.

    python bench/mcp_bare_server.py stdio <api key>
    python bench/mcp_bare_server.py http <port>       (bearer key in each request; port 0 picks a free one)
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

from mcpbridge.dataplane.local.kv import LocalKVStore  # noqa: E402
from mcpbridge.server.tools import default_registry  # noqa: E402
from mcpbridge.server.tools.identity import describe  # noqa: E402
from tenants.policy import resolve_api_key  # noqa: E402

TOOLS = [tool.as_mcp() for tool in default_registry()]
KV = LocalKVStore()


def kv_get(arguments: dict) -> dict:
    item = KV.get(os.environ["BENCH_KV_NAMESPACE"], arguments["key"])
    return {"key": item.key, "value": item.value, "expires_at": None}


def kv_set(arguments: dict) -> dict:
    namespace, key, value = os.environ["BENCH_KV_NAMESPACE"], arguments["key"], arguments["value"]
    size = len(value.encode())
    if not KV.put(namespace, key, value, size, None, must_exist=None):
        raise RuntimeError("the bench writes existing keys only, as the governed run does")
    return {"key": key, "size": size, "expires_at": None}


def build(raw_key_of) -> Server:
    async def list_tools(ctx, params):
        return types.ListToolsResult(tools=TOOLS)

    async def call_tool(ctx, params):
        if params.name == "kv_get":
            payload = await to_thread.run_sync(kv_get, params.arguments)
        elif params.name == "kv_set":
            payload = await to_thread.run_sync(kv_set, params.arguments)
        else:
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
        # "info" for uvicorn's "running on" line (the bench reads the port from it); no access log.
        uvicorn.run(app, host="127.0.0.1", port=int(arg), log_level="info", access_log=False)


if __name__ == "__main__":
    main()
