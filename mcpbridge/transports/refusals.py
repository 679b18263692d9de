"""HTTP requests the SDK's bearer check answers with 401 (no key, or a key that resolves to nobody usable) never
reach the MCP server, so they are audited here. The token verifier sees the token but not the client, so an
ASGI middleware keeps the client's address for the request, the verifier notes why it refused, and the 401
going out is counted into the runtime's buffered, per-minute refusal rows (never a write on the event loop).
"""

import logging
from contextvars import ContextVar
from dataclasses import dataclass

from mcpbridge.server.telemetry import Telemetry
from tenants.policy import ResolutionError
from tenants.services import AuthRefusal, RefusalDoor

logger = logging.getLogger(__name__)

MISSING_CREDENTIALS = "missing_credentials"


@dataclass
class _Attempt:
    address: str
    path: str
    refused: ResolutionError | None = None


_attempt: ContextVar[_Attempt | None] = ContextVar("mcp_http_attempt", default=None)


def note_refused_key(exc: ResolutionError) -> None:
    """Called by the token verifier: why this request's key was refused (read when its 401 goes out)."""
    attempt = _attempt.get()
    if attempt is not None:
        attempt.refused = exc


class RefusalAuditMiddleware:
    def __init__(self, app, telemetry: Telemetry):
        self.app = app
        self.telemetry = telemetry

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        client = scope.get("client")
        attempt = _Attempt(address=client[0] if client else "", path=scope.get("path", ""))
        token = _attempt.set(attempt)

        async def send_audited(message):
            if message["type"] == "http.response.start" and message["status"] == 401:
                try:
                    self._record(attempt)
                except Exception:
                    # Auditing must never turn a clean 401 into a failure.
                    logger.exception("Could not audit a refused MCP request")
            await send(message)

        try:
            await self.app(scope, receive, send_audited)
        finally:
            _attempt.reset(token)

    def _record(self, attempt: _Attempt) -> None:
        refused = attempt.refused
        self.telemetry.record_refusal(
            AuthRefusal.now(
                door=RefusalDoor.MCP_HTTP,
                reason=refused.reason.value if refused else MISSING_CREDENTIALS,
                address=attempt.address,
                key_prefix=refused.key_prefix if refused else None,
                tenant_id=refused.tenant_id if refused else None,
                target=f"mcp:{attempt.path}",
            )
        )
