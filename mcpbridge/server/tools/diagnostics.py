"""Tools for tests only, off unless MCP_DIAGNOSTIC_TOOLS is set: one that only waits (lets tests hold a call in
flight: shutdown drain, concurrency), and the one the official conformance suite calls, by its name, to see a
stream closed mid-call resumed with Last-Event-ID (its server-sse-polling scenario)."""

import time

from pydantic import Field

from mcpbridge.server.registry import Tool, ToolCall, ToolInput


class SleepInput(ToolInput):
    seconds: float = Field(ge=0, le=10, description="How long to wait.")


class NoInput(ToolInput):
    pass


def sleep(call: ToolCall) -> dict:
    time.sleep(call.args.seconds)
    return {"slept": call.args.seconds}


def reconnected(call: ToolCall) -> dict:
    return {"reconnected": True}


TOOLS = (
    Tool(name="diagnostics_sleep", description="Wait, then answer.", input_model=SleepInput, handler=sleep),
    Tool(
        name="test_reconnection",
        description="Close this call's event stream at once and answer on the client's reconnect.",
        input_model=NoInput,
        handler=reconnected,
        answers_on_reconnect=True,
    ),
)
