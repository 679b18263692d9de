"""stdio: one client, one API key, nothing but protocol on stdout.

A line that is not a JSON-RPC message gets a JSON-RPC error (-32700 when it is not JSON the SDK accepts,
-32600 when it is not a valid message; the id when it can be read, else null), and the server keeps serving.

On stdin EOF the SDK would cancel calls still running; instead the read side is held open until they
finish (at most STDIO_DRAIN_SECONDS). A call still running then is answered with a shutdown error, and the
process exits at once (worker threads cannot be interrupted, so it does not wait for them): every accepted
request gets an answer and the process is gone within 5 s of EOF.
"""

import json
import logging
import os
from collections.abc import Awaitable, Callable

import anyio
import mcp_types as types
from anyio import to_thread
from mcp.server.stdio import stdio_server
from mcp.shared.message import SessionMessage
from pydantic import ValidationError

from mcpbridge.models import McpSession
from mcpbridge.server import Runtime, build_server
from mcpbridge.server.errors import BACKEND_FAILURE

logger = logging.getLogger(__name__)

STDIO_DRAIN_SECONDS = 3.5
# After the drain: time for the answers to reach stdout, and for recording the session's end.
_ANSWER_FLUSH_SECONDS = 0.2
_BOOKKEEPING_SECONDS = 0.5
SHUTDOWN_MESSAGE = (
    f"The server is shutting down (its input was closed) and this call did not finish within "
    f"{STDIO_DRAIN_SECONDS:g} s; it was abandoned, so check whether it took effect before retrying."
)


async def serve_stdio(raw_key: str) -> None:
    runtime = Runtime(transport=McpSession.Transport.STDIO, credential=lambda ctx: raw_key)
    server = build_server(runtime)
    running: set = set()

    async def track(ctx, call_next):
        # Requests being handled, by id: those still running when the drain runs out get the shutdown answer.
        if ctx.request_id is None:
            return await call_next(ctx)
        running.add(ctx.request_id)
        try:
            return await call_next(ctx)
        finally:
            running.discard(ctx.request_id)

    server.middleware.insert(0, track)

    async with stdio_server() as (read_stream, write_stream):

        async def end_session(live) -> None:
            # A stdio process is one session: ending the session ends the process. The SDK reads stdin
            # in a worker thread that cancellation cannot interrupt, so after recording the end, exit.
            logger.warning("MCP session ended (%s); exiting", live.end_reason)
            await runtime.shutdown()
            os._exit(0)

        runtime.close_session = end_session

        async def at_eof() -> None:
            # Let the last request reach its handler (a few loop turns) before counting what runs.
            await anyio.sleep(0.05)
            if not await runtime.drained(STDIO_DRAIN_SECONDS):
                await abandon_running_calls()

        async def abandon_running_calls() -> None:
            logger.warning("%d call(s) still running %.1f s after stdin EOF; answering them and exiting",
                           len(running), STDIO_DRAIN_SECONDS)
            for request_id in list(running):
                error = types.ErrorData(code=BACKEND_FAILURE, message=SHUTDOWN_MESSAGE, data={"reason": "shutting_down"})
                await write_stream.send(SessionMessage(types.JSONRPCError(jsonrpc="2.0", id=request_id, error=error)))
            await anyio.sleep(_ANSWER_FLUSH_SECONDS)

            def record_shutdown():
                runtime.sessions.end_all(McpSession.EndReason.SERVER_SHUTDOWN)
                runtime.telemetry.flush()

            with anyio.move_on_after(_BOOKKEEPING_SECONDS):
                await to_thread.run_sync(record_shutdown, abandon_on_cancel=True)
            os._exit(0)

        held = HeldInput(read_stream, write_stream, at_eof)
        await server.run(held, write_stream, server.create_initialization_options())


class HeldInput:
    """The server's read side: stdin's messages as the SDK parsed them, with a line it could not parse answered
    here (the server keeps serving), and the end of input held back until `at_eof` has run (the drain).

    It wraps the SDK's stream instead of forwarding through another stream, which would cost every request
    two more task switches."""

    def __init__(self, read_stream, write_stream, at_eof: Callable[[], Awaitable[None]]):
        self._read, self._write, self._at_eof = read_stream, write_stream, at_eof

    async def receive(self) -> SessionMessage:
        while True:
            try:
                message = await self._read.receive()
            except anyio.EndOfStream:
                await self._at_eof()
                raise
            if not isinstance(message, Exception):
                return message
            await self._write.send(SessionMessage(unreadable_message_error(message)))

    def __aiter__(self) -> "HeldInput":
        return self

    async def __anext__(self) -> SessionMessage:
        try:
            return await self.receive()
        except anyio.EndOfStream:
            raise StopAsyncIteration from None

    async def aclose(self) -> None:
        await self._read.aclose()

    async def __aenter__(self) -> "HeldInput":
        return self

    async def __aexit__(self, *exc_info) -> None:
        await self.aclose()


def unreadable_message_error(exc: Exception) -> types.JSONRPCError:
    """The answer to a line the SDK could not turn into a message (it hands over the exception, not the line)."""
    errors = exc.errors() if isinstance(exc, ValidationError) else []
    raw = errors[0].get("input") if errors else None
    if any(error["type"] == "json_invalid" for error in errors):
        # Also what the SDK's parser says to nesting it refuses (200+ levels) and to lone surrogates.
        message = f"Parse error: {errors[0]['msg']}"
        code, request_id = types.PARSE_ERROR, _readable_id(raw)
    else:
        raw = next((e["input"] for e in errors if isinstance(e.get("input"), dict) and "jsonrpc" in e["input"]), None)
        message = "Invalid Request: not a JSON-RPC 2.0 request, notification or response"
        if isinstance(raw, dict) and "method" in raw:
            # Name what is wrong in the shape the line was meant to have (a request when it has an id).
            meant = "JSONRPCRequest" if "id" in raw else "JSONRPCNotification"
            wrong = [e for e in errors if e["loc"] and e["loc"][0] == meant]
            if wrong:
                where = ".".join(str(part) for part in wrong[0]["loc"][1:]) or "message"
                message = f"Invalid Request: {where}: {wrong[0]['msg']}"
        code, request_id = types.INVALID_REQUEST, _request_id(raw)
    return types.JSONRPCError(jsonrpc="2.0", id=request_id, error=types.ErrorData(code=code, message=message[:500]))


def _readable_id(line) -> int | str | None:
    """The id of a line the SDK refused, when the standard library can still read it; else None."""
    if not isinstance(line, str):
        return None
    try:
        return _request_id(json.loads(line))
    except (ValueError, RecursionError):
        return None


def _request_id(message) -> int | str | None:
    request_id = message.get("id") if isinstance(message, dict) else None
    if isinstance(request_id, bool) or not isinstance(request_id, (int, str)):
        return None
    if isinstance(request_id, str):
        try:
            request_id.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate: it could not be written back
            return None
    return request_id
