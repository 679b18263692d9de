"""The one enforcement pipeline every tool call (and every resource request, served by a tool) goes through,
in this order:

authenticate -> tenant and key active -> tool visible for the effective capabilities -> arguments valid (the
schema, then sizes against the tenant's limits: a call that can never succeed is not told to retry) ->
rate limit and concurrency -> AWS capacity -> execute (the data services enforce quotas atomically) ->
usage and audit -> result.

It is synchronous (Django ORM, boto3): the async MCP handlers run it in a worker thread.
"""

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import mcp_types as types
from django.db import close_old_connections, connection

from controlplane.database import DATABASE_UNAVAILABLE, WriteNotStored, database_outage
from controlplane.ops.logging import call_context, set_tenant
from controlplane.ops.tracing import annotate, stage, tracing_enabled
from mcpbridge.server.callers import ContextStore, authenticate
from mcpbridge.server.errors import Refusal, backend_failure, invalid_arguments, tenant_error, unknown_tool
from mcpbridge.server.limiter import Limiter
from mcpbridge.server.registry import ToolCall, ToolRegistry
from mcpbridge.server.telemetry import METRIC_TOOL_CALLS, METRIC_TOOL_REFUSED, Telemetry
from mcpbridge.services.errors import (
    BackendUnavailable,
    CapabilityDenied,
    DataPlaneError,
    InvalidInput,
    NotFound,
    QuotaExceeded,
)
from tenants.models.audit import AuditAction, AuditOutcome
from tenants.policy import ContextNotAllowed, Principal, ResolutionError
from tenants.services import Actor, AuthRefusal, RefusalDoor

logger = logging.getLogger(__name__)

# The writes check what was stored after a lost connection (controlplane.database.certain_write): a write that
# committed is answered as success, one that provably did not as NOT_STORED_MESSAGE. Only when even that check
# cannot reach the database (or a handler without the check lost it) is the outcome unknown.
NOT_STORED_MESSAGE = "The database connection was lost and this call's write was not stored; retry it."
OUTCOME_UNKNOWN_MESSAGE = (
    "The database connection was lost during this call, so whether it took effect is unknown; "
    "read the result back before retrying."
)
# Tools that still work when the caller's chosen org context is gone, so it can see and fix that.
# The MCP spec's tool name length (1-128 characters).
MAX_TOOL_NAME_CHARS = 128
_CONTEXT_TOLERANT = frozenset({"whoami", "context_switch", "quota_status"})


@dataclass(frozen=True)
class CallerInfo:
    raw_key: str | None
    request_id: str = ""
    session_id: str = ""
    # What resolving raw_key found earlier in this same request (HTTP: the bearer check), or None.
    resolved: Principal | ResolutionError | None = None
    # Where the request came in and from which client address (a stdio client is the process itself).
    door: str = RefusalDoor.MCP_STDIO
    address: str = "stdio"


class Pipeline:
    def __init__(self, *, registry: ToolRegistry, limiter: Limiter, telemetry: Telemetry, contexts: ContextStore):
        self.registry = registry
        self.limiter = limiter
        self.telemetry = telemetry
        self.contexts = contexts

    def principal(self, caller: CallerInfo, *, strict_context: bool = True) -> Principal:
        principal = authenticate(caller.raw_key, caller.resolved)
        return self.contexts.apply(principal, strict=strict_context)

    def list_tools(self, caller: CallerInfo) -> tuple[list[types.Tool], frozenset[str]]:
        close_old_connections()
        try:
            principal = self.principal(caller, strict_context=False)
        except Refusal as refusal:
            self.audit_unauthenticated(caller, "mcp:tools/list", refusal)
            raise
        tools = self.registry.visible(principal)
        return [tool.as_mcp() for tool in tools], frozenset(tool.name for tool in tools)

    def visible_names(self, raw_key: str) -> frozenset[str]:
        """What a caller may see right now; nothing when its key or tenant no longer works."""
        close_old_connections()
        try:
            principal = self.principal(CallerInfo(raw_key), strict_context=False)
        except Refusal:
            return frozenset()
        return self.registry.visible_names(principal)

    def call_tool(self, caller: CallerInfo, name: str, arguments: dict | None) -> types.CallToolResult:
        # No tool has a longer name; an invented one is cut before it is echoed, audited or labelled.
        name = name if len(name) <= MAX_TOOL_NAME_CHARS else name[:MAX_TOOL_NAME_CHARS] + "…"
        return self._governed(
            caller,
            name,
            arguments,
            target=f"tool:{name}",
            strict_context=name not in _CONTEXT_TOLERANT,
            hidden=lambda: unknown_tool(name),
            execute=self._tool_result,
        )

    def serve_resource(
        self, caller: CallerInfo, tool_name: str, arguments: dict, *, target: str, not_found: Callable[[], Refusal]
    ) -> dict:
        """A resources/* request served by a tool's handler, through the same checks, limits and audit as a
        call of that tool. Returns the tool's payload. A hidden tool and a missing object get the same
        answer (`not_found`), so a caller cannot tell what exists from what it may not see."""

        def execute(tool, principal, call: ToolCall) -> tuple[dict, str]:
            try:
                return self._handle(tool, call), AuditOutcome.OK
            except NotFound:
                refusal = not_found()
                refusal.outcome = AuditOutcome.INVALID  # audited apart from a hidden tool's DENIED
                raise refusal from None
            except DataPlaneError as exc:
                raise invalid_arguments(tool.name, [exc.message]) from None

        return self._governed(
            caller, tool_name, arguments, target=target, strict_context=True, hidden=not_found, execute=execute
        )

    def _governed(self, caller: CallerInfo, name: str, arguments, *, target, strict_context, hidden, execute):
        # The one database alias the calls use: a connection past its age or broken since its last use is replaced
        # (Django's close_old_connections does the same for every alias).
        connection.close_if_unusable_or_obsolete()
        started = time.perf_counter()
        principal: Principal | None = None
        with call_context(request_id=str(caller.request_id), tool=name):
            try:
                with stage("authenticate"):
                    principal = authenticate(caller.raw_key, caller.resolved)
                    principal = self.contexts.apply(principal, strict=strict_context)
                set_tenant(principal.tenant_id)
                with stage("authorize"):
                    tool = self.registry.find_visible(principal, name)
                if tool is None:
                    raise hidden()
                with stage("validate"):
                    args = tool.parse(arguments)
                    # What the precheck found (the validated values) goes to the handler, which need not check again.
                    checked = None
                    if tool.precheck is not None:
                        checked = self._domain(tool, tool.precheck, ToolCall(principal, args, self.contexts))
                with stage("rate_limit"):
                    self.limiter.check_rate(principal, tool)
                with self.limiter.concurrency(principal):
                    with stage("capacity"):
                        self.limiter.check_capacity(principal, tool, args)
                    with stage("execute"):
                        result, outcome = execute(tool, principal, ToolCall(principal, args, self.contexts, checked))
            except Refusal as refusal:
                self._record(caller, principal, name, target, refusal.outcome, started, refusal)
                raise
            self._record(caller, principal, name, target, outcome, started)
        return result

    def _tool_result(self, tool, principal: Principal, call: ToolCall) -> tuple[types.CallToolResult, str]:
        try:
            payload = self._handle(tool, call)
        except NotFound as exc:
            # Something the model should read and act on, not a protocol failure.
            return _tool_error(exc.message, exc.code), AuditOutcome.OK
        except DataPlaneError as exc:
            return _tool_error(exc.message, exc.code), AuditOutcome.ERROR
        return _tool_result(payload), AuditOutcome.OK

    def _handle(self, tool, call: ToolCall) -> dict:
        """Run the handler. Refusals come out as Refusal; NotFound and other DataPlaneErrors (failures the
        caller should read) come out as they are, for the adapter to shape."""
        return self._domain(tool, tool.handler, call)

    def _domain(self, tool, function: Callable[[ToolCall], dict | None], call: ToolCall):
        try:
            return function(call)
        except InvalidInput as exc:
            raise invalid_arguments(tool.name, [exc.message]) from None
        except QuotaExceeded as exc:
            raise tenant_error("quota_exceeded", exc.message, AuditOutcome.QUOTA_EXCEEDED, **exc.details) from None
        except CapabilityDenied as exc:
            raise tenant_error("capability_denied", exc.message, **exc.details) from None
        except ContextNotAllowed as exc:
            raise tenant_error("context_not_allowed", str(exc), org=exc.org) from None
        except BackendUnavailable as exc:
            logger.warning("Backend unavailable in %s: %s", tool.name, exc.__cause__ or exc)
            raise backend_failure(exc.message) from None
        except (DataPlaneError, Refusal):
            raise
        except WriteNotStored as exc:
            database_outage.failed(exc.__cause__ or exc)
            raise backend_failure(NOT_STORED_MESSAGE) from None
        except DATABASE_UNAVAILABLE as exc:
            database_outage.failed(exc)
            raise backend_failure(OUTCOME_UNKNOWN_MESSAGE) from None
        except Exception:
            # Internals (tracebacks, driver messages) stay in the log; the client gets a safe message.
            logger.exception("Tool %s failed", tool.name)
            raise backend_failure("The tool failed unexpectedly; the error has been logged.") from None

    def _record(
        self, caller: CallerInfo, principal, name: str, target: str, outcome: str, started: float, refusal=None
    ):
        if tracing_enabled():
            annotate(
                **{
                    "controlplane.tenant_id": principal.tenant_id if principal is not None else None,
                    "controlplane.outcome": outcome,
                    "controlplane.refusal": refusal.data.get("reason") if refusal is not None else None,
                }
            )
        if principal is None:
            self.audit_unauthenticated(caller, target, refusal, usage_metric=METRIC_TOOL_REFUSED)
            return
        latency_ms = round((time.perf_counter() - started) * 1000, 3)
        details = {"tool": name}
        if caller.session_id:
            details["session"] = caller.session_id
        if refusal is not None and refusal.data.get("reason"):
            details["reason"] = refusal.data["reason"]
        if refusal is not None and refusal.data.get("limit"):
            details["limit"] = refusal.data["limit"]
        details["context"] = str(principal.context)
        actor = Actor.for_principal(principal, channel=AuditAction.TOOL_CALL, request_id=str(caller.request_id))
        self.telemetry.record(
            actor=actor,
            tenant_id=principal.tenant_id,
            target=target,
            outcome=outcome,
            latency_ms=latency_ms,
            details=details,
            usage_metric=METRIC_TOOL_CALLS if outcome == AuditOutcome.OK else METRIC_TOOL_REFUSED,
        )

    def audit_unauthenticated(
        self, caller: CallerInfo, target: str, refusal: Refusal, *, usage_metric: str | None = None
    ) -> None:
        """A caller refused while authenticating (bad or dead key, tenant not serving) is counted into one audit
        row per key prefix (or client address, for keys nobody owns) and minute, so a flood cannot fill the table."""
        if not refusal.unauthenticated:
            return
        self.telemetry.record_refusal(
            AuthRefusal.now(
                door=caller.door,
                reason=str(refusal.data.get("reason") or "refused"),
                address=caller.address,
                key_prefix=refusal.key_prefix,
                tenant_id=refusal.tenant_id,
                target=target,
                outcome=refusal.outcome,
            ),
            usage_metric=usage_metric,
        )


def _tool_result(payload: dict) -> types.CallToolResult:
    return types.CallToolResult(
        content=[types.TextContent(type="text", text=json.dumps(payload, default=str))],
        structured_content=payload,
    )


def _tool_error(message: str, code: str) -> types.CallToolResult:
    return types.CallToolResult(
        content=[types.TextContent(type="text", text=message)],
        structured_content={"error": code, "message": message},
        is_error=True,
    )
