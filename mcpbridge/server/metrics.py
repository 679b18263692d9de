"""Prometheus metrics of governed calls, updated where each call is recorded (Telemetry.record).

With several server processes set PROMETHEUS_MULTIPROC_DIR (prometheus-client's multiprocess mode) so that one
scrape adds up every process.
"""

from prometheus_client import Counter, Histogram

_NO_TENANT = "-"
# Label values come from a closed vocabulary: a client can invent tool names and methods without end, and every
# new label value is a series each process keeps (and every scrape sends) until it exits. Anything else is OTHER.
OTHER = "other"
_MCP_METHODS = (
    "initialize", "ping", "tools/list", "tools/call", "resources/list", "resources/read", "resources/templates/list",
    "resources/subscribe", "resources/unsubscribe", "prompts/list", "prompts/get", "completion/complete",
    "logging/setLevel", "subscriptions/listen", "/mcp",
)
_declared_targets: set[str] = {"resource:list", "resource:read", *(f"mcp:{method}" for method in _MCP_METHODS)}


def declare_tool_labels(names) -> None:
    """Tool names the registry serves: the only tool names that become label values."""
    _declared_targets.update(names)


def tool_label(tool: str) -> str:
    return tool if tool in _declared_targets else OTHER

TOOL_CALLS = Counter(
    "controlplane_mcp_tool_calls",
    "MCP tool calls (and resource requests) by tenant id, tool and audit outcome.",
    ["tenant", "tool", "outcome"],
)
TOOL_DURATION = Histogram(
    "controlplane_mcp_tool_call_duration_seconds",
    "Time a call spent in the enforcement pipeline, by tool.",
    ["tool"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
LIMIT_REFUSALS = Counter(
    "controlplane_mcp_limit_refusals",
    "Calls refused by a rate limit or a quota, by tenant id, limit and outcome.",
    ["tenant", "limit", "outcome"],
)


# The labelled children, looked up once: labels() validates and locks on every call, which showed in profiles of
# the per-call path. A child is never removed, so holding on to it is safe.
_calls: dict[tuple[str, str, str], object] = {}
_durations: dict[str, object] = {}


def observe_call(*, tenant_id: str | None, tool: str, outcome: str, latency_ms: float | None, limit: str | None) -> None:
    tenant = tenant_id or _NO_TENANT
    tool = tool_label(tool)
    calls = _calls.get((tenant, tool, outcome))
    if calls is None:
        calls = _calls[(tenant, tool, outcome)] = TOOL_CALLS.labels(tenant, tool, outcome)
    calls.inc()
    if latency_ms is not None:
        duration = _durations.get(tool)
        if duration is None:
            duration = _durations[tool] = TOOL_DURATION.labels(tool)
        duration.observe(latency_ms / 1000)
    if limit:
        LIMIT_REFUSALS.labels(tenant, limit, outcome).inc()
