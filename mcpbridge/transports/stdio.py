"""stdio: one client, one API key, nothing but protocol on stdout.

On stdin EOF the SDK would cancel calls still running; instead the read side is held open until they
finish (at most STDIO_DRAIN_SECONDS), so every accepted call is answered before the process exits.
"""

import logging
import os

import anyio
from mcp.server.stdio import stdio_server

from mcpbridge.models import McpSession
from mcpbridge.server import Runtime, build_server

logger = logging.getLogger(__name__)

STDIO_DRAIN_SECONDS = 4.0


async def serve_stdio(raw_key: str) -> None:
    runtime = Runtime(transport=McpSession.Transport.STDIO, credential=lambda ctx: raw_key)
    server = build_server(runtime)
    async with stdio_server() as (read_stream, write_stream):
        held_send, held_receive = anyio.create_memory_object_stream(0)
        async with anyio.create_task_group() as tg:

            async def end_session(live) -> None:
                # A stdio process is one session: ending the session ends the process. The SDK reads stdin
                # in a worker thread that cancellation cannot interrupt, so after recording the end, exit.
                logger.warning("MCP session ended (%s); exiting", live.end_reason)
                await runtime.shutdown()
                os._exit(0)

            runtime.close_session = end_session

            async def pump() -> None:
                async with held_send:
                    async for message in read_stream:
                        await held_send.send(message)
                    # Let the last request reach its handler (a few loop turns) before counting what runs.
                    await anyio.sleep(0.05)
                    if not await runtime.drained(STDIO_DRAIN_SECONDS):
                        logger.warning("Calls still running after %.0f s at stdin EOF; exiting anyway", STDIO_DRAIN_SECONDS)

            async def serve() -> None:
                await server.run(held_receive, write_stream, server.create_initialization_options())
                tg.cancel_scope.cancel()

            tg.start_soon(pump)
            tg.start_soon(serve)
