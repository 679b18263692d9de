"""The one ASGI layer of ours in front of the MCP app, doing per request what used to take three nested ones
(each wrapping `send` in a closure of its own, on the event loop of every call):

- 401s audited (refusals.py): the bearer check runs inside this layer and notes why it refused a key;
- a database lost before /mcp could answer becomes 503 (unavailable.py), never a raw 500;
- step-up (stepup.py): a tools/call an OAuth token lacks the scope for is answered 403 insufficient_scope.
  Only POSTs to /mcp carrying an OAuth access token are inspected; API keys pass straight through.
"""

from controlplane.database import DATABASE_UNAVAILABLE, database_outage
from mcpbridge.server.telemetry import Telemetry
from mcpbridge.transports.refusals import Attempt, attempts
from mcpbridge.transports.stepup import StepUpChallenge
from mcpbridge.transports.unavailable import unavailable_response


class McpGate:
    def __init__(self, app, *, telemetry: Telemetry, step_up: StepUpChallenge | None = None):
        self.app = app
        self.telemetry = telemetry
        self.step_up = step_up

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        attempt = Attempt(scope, send, self.telemetry)
        token = attempts.set(attempt)
        try:
            if self.step_up is not None and self.step_up.inspects(scope):
                receive = await self.step_up.screen(scope, receive, attempt.send)
                if receive is None:
                    return  # answered 403
            await self.app(scope, receive, attempt.send)
        except DATABASE_UNAVAILABLE as exc:
            if attempt.started:
                raise
            database_outage.failed(exc)
            await unavailable_response()(scope, receive, send)
        finally:
            attempts.reset(token)
