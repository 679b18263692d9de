"""HTTP requests the SDK's bearer check answers with 401 (no key, or a key that resolves to nobody usable) never
reach the MCP server, so they are audited here. The token verifier sees the token but not the client, so the
gate (gate.py) keeps the request's Attempt in a context variable, the verifier notes why it refused, and the 401
going out through the attempt's `send` is counted into the runtime's buffered, per-minute refusal rows (never a
write on the event loop).
"""

import logging
from contextvars import ContextVar

from mcpbridge.server.telemetry import Telemetry
from tenants.policy import ResolutionError
from tenants.services import AuthRefusal, RefusalDoor

logger = logging.getLogger(__name__)

MISSING_CREDENTIALS = "missing_credentials"


class Attempt:
    """One HTTP request at the gate: its `send` (audits a 401, tells whether the answer has started) and why the
    bearer check refused its key, if it did. The client's address is read off the scope only for a 401."""

    __slots__ = ("scope", "refused", "started", "_send", "_telemetry")

    def __init__(self, scope, send, telemetry: Telemetry):
        self.scope = scope
        self.refused: ResolutionError | None = None
        self.started = False
        self._send = send
        self._telemetry = telemetry

    async def send(self, message) -> None:
        if message["type"] == "http.response.start":
            self.started = True
            if message["status"] == 401:
                try:
                    self._record()
                except Exception:
                    # Auditing must never turn a clean 401 into a failure.
                    logger.exception("Could not audit a refused MCP request")
        await self._send(message)

    def _record(self) -> None:
        refused = self.refused
        client = self.scope.get("client")
        self._telemetry.record_refusal(
            AuthRefusal.now(
                door=RefusalDoor.MCP_HTTP,
                reason=refused.reason.value if refused else MISSING_CREDENTIALS,
                address=client[0] if client else "",
                key_prefix=refused.key_prefix if refused else None,
                tenant_id=refused.tenant_id if refused else None,
                target=f"mcp:{self.scope.get('path', '')}",
            )
        )


attempts: ContextVar[Attempt | None] = ContextVar("mcp_http_attempt", default=None)


def note_refused_key(exc: ResolutionError) -> None:
    """Called by the token verifier: why this request's key was refused (read when its 401 goes out)."""
    attempt = attempts.get()
    if attempt is not None:
        attempt.refused = exc
