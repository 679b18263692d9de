"""Builds the MCP server: the SDK's low-level Server, with every request going through the runtime."""

import logging
from contextlib import asynccontextmanager

import anyio
import mcp_types as types
from anyio import to_thread
from mcp.server.context import ServerRequestContext
from mcp.server.lowlevel import NotificationOptions, Server
from mcp.server.subscriptions import ListenHandler
from mcp.shared.exceptions import MCPError

from controlplane.database import DATABASE_UNAVAILABLE, UNAVAILABLE_MESSAGE, database_outage
from mcpbridge.server import resources
from mcpbridge.server.errors import BACKEND_FAILURE, Refusal
from mcpbridge.server.pipeline import CallerInfo
from mcpbridge.server.runtime import Listener, Runtime
from tenants.services import RefusalDoor

logger = logging.getLogger(__name__)

SERVER_NAME = "controlplane"
INSTRUCTIONS = (
    "Tenant-scoped storage tools: key-value items, artifacts, events and secrets. Everything you store lives in "
    "your current context (personal, or an organization after context_switch). Call whoami to see where you are. "
    "Artifacts of the current context are also resources (artifact:///<name>)."
)


# Requests that stay open as event streams: not calls to wait for at shutdown.
_LONG_LIVED = frozenset({"subscriptions/listen"})


class GovernedServer(Server[Runtime]):
    def create_initialization_options(self, notification_options=None, experimental_capabilities=None, extensions=None):
        # The HTTP session manager asks with no arguments; tools/list_changed must be advertised there too.
        return super().create_initialization_options(
            notification_options or NotificationOptions(tools_changed=True), experimental_capabilities, extensions
        )


def build_server(runtime: Runtime) -> GovernedServer:
    @asynccontextmanager
    async def lifespan(_server):
        async with anyio.create_task_group() as tg:
            tg.start_soon(runtime.watch)
            try:
                yield runtime
            finally:
                tg.cancel_scope.cancel()
                await runtime.shutdown()

    async def enforce(ctx: ServerRequestContext, call_next):
        """Every request (the handshake included) belongs to a live session, which must still be open."""
        if ctx.request_id is None:
            return await call_next(ctx)
        live = runtime.attached(ctx)
        if live is None:
            live = await _guard(_audited_attach(runtime, ctx))
        if ctx.method in _LONG_LIVED:
            return await call_next(ctx)
        runtime.call_started(live)
        try:
            return await call_next(ctx)
        finally:
            runtime.call_finished(live)

    async def list_tools(ctx: ServerRequestContext, params) -> types.ListToolsResult:
        live = runtime.live_for(ctx)
        tools, names = await _guard(to_thread.run_sync(runtime.pipeline.list_tools, _caller(runtime, ctx, live)))
        if live is not None:
            live.visible = names
        return types.ListToolsResult(tools=tools)

    async def call_tool(ctx: ServerRequestContext, params: types.CallToolRequestParams) -> types.CallToolResult:
        caller = _caller(runtime, ctx, runtime.live_for(ctx))
        tool = runtime.pipeline.registry.get(params.name)
        if tool is not None and tool.answers_on_reconnect and ctx.close_sse_stream is not None:
            await ctx.close_sse_stream()
        return await _guard(to_thread.run_sync(runtime.pipeline.call_tool, caller, params.name, params.arguments))

    async def list_resources(ctx: ServerRequestContext, params) -> types.ListResourcesResult:
        caller = _caller(runtime, ctx, runtime.live_for(ctx))
        cursor = params.cursor if params is not None else None
        return await _guard(to_thread.run_sync(resources.list_resources, runtime.pipeline, caller, cursor))

    async def read_resource(ctx: ServerRequestContext, params: types.ReadResourceRequestParams):
        caller = _caller(runtime, ctx, runtime.live_for(ctx))
        return await _guard(to_thread.run_sync(resources.read_resource, runtime.pipeline, caller, params.uri))

    async def listen(ctx: ServerRequestContext, params: types.SubscriptionsListenRequestParams):
        raw_key = runtime.credential(ctx)
        visible = await _guard(to_thread.run_sync(_visible_or_refuse, runtime, _caller(runtime, ctx, None)))
        listener = Listener(raw_key=raw_key, visible=visible)
        runtime.listeners.add(listener)
        try:
            return await ListenHandler(listener.bus)(ctx, params)
        finally:
            runtime.listeners.discard(listener)

    server = GovernedServer(
        SERVER_NAME,
        version="1.0",
        instructions=INSTRUCTIONS,
        lifespan=lifespan,
        on_list_tools=list_tools,
        on_call_tool=call_tool,
        on_list_resources=list_resources,
        on_read_resource=read_resource,
        on_subscriptions_listen=listen,
    )
    server.middleware.append(enforce)
    return server


def _caller(runtime: Runtime, ctx, live) -> CallerInfo:
    # Over HTTP the request carries the client's address (audited for refusals); over stdio there is none.
    client = getattr(ctx.request, "client", None)
    return CallerInfo(
        raw_key=runtime.credential(ctx),
        request_id=str(ctx.request_id or ""),
        session_id=live.record_id if live is not None else "",
        resolved=runtime.resolution(ctx),
        door=RefusalDoor.MCP_STDIO if ctx.request is None else RefusalDoor.MCP_HTTP,
        address=client.host if client is not None else "stdio",
    )


async def _audited_attach(runtime: Runtime, ctx):
    """Open or find the request's session; a caller refused while opening one is audited."""
    try:
        return await runtime.attach(ctx)
    except Refusal as refusal:
        runtime.pipeline.audit_unauthenticated(_caller(runtime, ctx, None), f"mcp:{ctx.method}", refusal)
        raise


def _visible_or_refuse(runtime: Runtime, caller: CallerInfo):
    try:
        principal = runtime.pipeline.principal(caller, strict_context=False)
    except Refusal as refusal:
        runtime.pipeline.audit_unauthenticated(caller, "mcp:subscriptions/listen", refusal)
        raise
    return runtime.registry.visible_names(principal)


async def _guard(awaitable):
    """Refusals become their JSON-RPC error; anything unexpected becomes a safe backend failure."""
    try:
        return await awaitable
    except Refusal as refusal:
        raise refusal.to_mcp_error() from None
    except MCPError:
        raise
    except DATABASE_UNAVAILABLE as exc:
        database_outage.failed(exc)
        raise MCPError(BACKEND_FAILURE, UNAVAILABLE_MESSAGE) from None
    except Exception:
        logger.exception("MCP request failed")
        raise MCPError(BACKEND_FAILURE, "The server failed to handle this request; the error has been logged.") from None
