"""Tools are declared once each: name, description, typed input, required capability, limiter cost, handler."""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import mcp_types as types
from pydantic import BaseModel, ConfigDict, ValidationError

from mcpbridge.server.errors import invalid_arguments
from mcpbridge.server.metrics import declare_tool_labels
from tenants.policy import Principal


class ToolInput(BaseModel):
    """Base of every tool's arguments: unknown arguments are an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)


@dataclass(frozen=True)
class Capacity:
    """Units a call draws from a windowed limit (a Limit name: AWS capacity per second, events per minute),
    computed from its arguments."""

    limit: str
    units: Callable[[Any], int] = lambda args: 1
    seconds: int = 1


@dataclass(frozen=True, slots=True)
class ToolCall:
    """What a handler gets: the caller in its current context, its validated arguments, and the caller's state;
    for a tool with a precheck, also what the precheck returned for this call (its validated values)."""

    principal: Principal
    args: Any
    contexts: Any  # mcpbridge.server.callers.ContextStore
    checked: Any = None


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    input_model: type[ToolInput]
    handler: Callable[[ToolCall], dict]
    capability: str | None = None
    # Checks of the arguments against the tenant's limits that need no backend (sizes): run before any rate
    # limit, so a call that can never succeed is refused as such instead of being told to retry.
    # What it returns reaches the handler as ToolCall.checked.
    precheck: Callable[[ToolCall], Any] | None = None
    cost: int = 1
    capacity: tuple[Capacity, ...] = ()
    read_only: bool = False  # advertised to clients as readOnlyHint
    # Close the call's SSE stream before running it, so the answer reaches the client only when it reconnects with
    # Last-Event-ID (SSE polling, spec 2025-11-25): needs the event history and a 2025-11-25 client, else a no-op.
    answers_on_reconnect: bool = False
    schema: dict = field(init=False, compare=False)
    listing: types.Tool = field(init=False, compare=False, repr=False)  # built once, served by every tools/list

    def __post_init__(self):
        object.__setattr__(self, "schema", self.input_model.model_json_schema())
        object.__setattr__(
            self,
            "listing",
            types.Tool(
                name=self.name,
                description=self.description,
                input_schema=self.schema,
                annotations=types.ToolAnnotations(read_only_hint=self.read_only),
            ),
        )

    def visible_to(self, principal: Principal) -> bool:
        return self.capability is None or principal.can(self.capability)

    def parse(self, arguments: dict | None) -> Any:
        try:
            return self.input_model.model_validate(arguments or {})
        except ValidationError as exc:
            raise invalid_arguments(self.name, _problems(exc)) from None

    def as_mcp(self) -> types.Tool:
        return self.listing


class ToolRegistry:
    def __init__(self, tools: Iterable[Tool] = ()):
        self._tools: dict[str, Tool] = {}
        for tool in tools:
            self.add(tool)

    def add(self, tool: Tool) -> None:
        if tool.name in self._tools:
            raise ValueError(f"Tool {tool.name!r} is declared twice.")
        self._tools[tool.name] = tool
        declare_tool_labels([tool.name])

    def visible(self, principal: Principal) -> list[Tool]:
        return [tool for tool in self._tools.values() if tool.visible_to(principal)]

    def visible_names(self, principal: Principal) -> frozenset[str]:
        return frozenset(tool.name for tool in self.visible(principal))

    def find_visible(self, principal: Principal, name: str) -> Tool | None:
        tool = self._tools.get(name)
        return tool if tool is not None and tool.visible_to(principal) else None

    def get(self, name: str) -> Tool | None:
        return self._tools.get(name)

    def __iter__(self):
        return iter(self._tools.values())


def _problems(exc: ValidationError) -> list[str]:
    problems = []
    for error in exc.errors(include_url=False, include_input=False):
        where = ".".join(str(part) for part in error["loc"]) or "arguments"
        problems.append(f"{where}: {error['msg']}")
    return problems
