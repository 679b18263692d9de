"""A tool that only waits: lets tests hold a call in flight (shutdown drain, concurrency). Off unless
MCP_DIAGNOSTIC_TOOLS is set."""

import time

from pydantic import Field

from mcpbridge.server.registry import Tool, ToolCall, ToolInput


class SleepInput(ToolInput):
    seconds: float = Field(ge=0, le=10, description="How long to wait.")


def sleep(call: ToolCall) -> dict:
    time.sleep(call.args.seconds)
    return {"slept": call.args.seconds}


TOOLS = (Tool(name="diagnostics_sleep", description="Wait, then answer.", input_model=SleepInput, handler=sleep),)
