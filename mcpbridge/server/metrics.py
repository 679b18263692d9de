"""Prometheus metrics of governed calls, updated where each call is recorded (Telemetry.record).

With several server processes set PROMETHEUS_MULTIPROC_DIR (prometheus-client's multiprocess mode) so that one
scrape adds up every process.
"""

from prometheus_client import Counter, Histogram

_NO_TENANT = "-"

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
