"""How a refused or failed call reaches the client: one exception type, one mapping to JSON-RPC errors.

Codes (DESIGN.md "MCP bridge"): -32602 invalid params, -32001 rate limited (retry_after_ms in data),
-32002 tenant error (suspended, quota, context not allowed), -32003 backend failure (safe message only).
-32000 is used for authentication failures over stdio, where there is no HTTP 401 to answer with.
"""

from dataclasses import dataclass, field

from mcp.shared.exceptions import MCPError

from tenants.models.audit import AuditOutcome

INVALID_PARAMS = -32602
AUTH_FAILED = -32000
RATE_LIMITED = -32001
TENANT_ERROR = -32002
BACKEND_FAILURE = -32003


@dataclass
class Refusal(Exception):
    """A call the pipeline answers with a JSON-RPC error. `outcome` is what the audit log records."""

    code: int
    message: str
    outcome: str
    data: dict = field(default_factory=dict)
    # For the audit log only, never sent: who failed when no principal could be resolved.
    tenant_id: str | None = None
    key_prefix: str | None = None
    # Refused while authenticating (no usable key, or its tenant not serving): audited aggregated, not per call.
    unauthenticated: bool = False

    def __str__(self):
        return self.message

    def to_mcp_error(self) -> MCPError:
        return MCPError(self.code, self.message, self.data or None)


def unknown_tool(name: str) -> Refusal:
    # Hidden tools answer exactly like tools that do not exist, so a caller cannot map what it may not use.
    return Refusal(INVALID_PARAMS, f"Unknown tool: {name}", AuditOutcome.DENIED, {"tool": name})


def invalid_arguments(tool: str, problems: list[str]) -> Refusal:
    return Refusal(
        INVALID_PARAMS,
        f"Invalid arguments for {tool}: " + "; ".join(problems),
        AuditOutcome.INVALID,
        {"tool": tool, "errors": problems},
    )


def rate_limited(limit: str, retry_after_ms: int, maximum: int) -> Refusal:
    return Refusal(
        RATE_LIMITED,
        f"Rate limit {limit} ({maximum}) reached; retry in {retry_after_ms} ms.",
        AuditOutcome.RATE_LIMITED,
        {"limit": limit, "max": maximum, "retry_after_ms": retry_after_ms},
    )


def tenant_error(reason: str, message: str, outcome: str = AuditOutcome.DENIED, **details) -> Refusal:
    return Refusal(TENANT_ERROR, message, outcome, {"reason": reason, **details})


def auth_failed(reason: str, message: str) -> Refusal:
    return Refusal(AUTH_FAILED, message, AuditOutcome.DENIED, {"reason": reason}, unauthenticated=True)


def backend_failure(message: str = "The storage backend is unavailable right now; try again shortly.") -> Refusal:
    return Refusal(BACKEND_FAILURE, message, AuditOutcome.ERROR, {"reason": "backend_unavailable"})


def limit_exceeded(limit: str, requested: int, maximum: int) -> Refusal:
    """A call that no amount of waiting lets through: not a rate limit (-32001) but a tenant error."""
    return tenant_error(
        "limit_exceeded",
        f"This call needs {requested} of {limit}, and this tenant's limit is {maximum}: it can never run. "
        "Ask an administrator to raise the limit.",
        AuditOutcome.QUOTA_EXCEEDED,
        limit=limit,
        requested=requested,
        max=maximum,
    )


def limits_unavailable(retry_after_ms: int = 1000) -> Refusal:
    return Refusal(
        BACKEND_FAILURE,
        "Rate limits cannot be checked right now (their store is unavailable); retry shortly.",
        AuditOutcome.ERROR,
        {"reason": "limits_unavailable", "retry_after_ms": retry_after_ms},
    )
