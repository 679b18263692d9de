"""The one ASGI layer of ours in front of the MCP app. Per request it does what used to take six nested ones
(three of ours, each wrapping `send` in a closure of its own, and the SDK's AuthenticationMiddleware,
AuthContextMiddleware and RequireAuthMiddleware), all on the event loop of every call:

- step-up (stepup.py): a tools/call an OAuth token lacks the scope for is answered 403 insufficient_scope.
  Only POSTs to /mcp carrying an OAuth access token are inspected; API keys pass straight through;
- the bearer check of /mcp, as the SDK's middlewares do it: the token verifier decides, the authenticated user
  goes into the scope (the session manager binds sessions to it) and into the SDK's auth context (the MCP
  server reads the token there); a request without a usable token is answered 401 with the RFC 9728
  resource metadata URL;
- 401s audited (refusals.py): the verifier notes why it refused a key, the 401 going out is counted;
- a database lost before /mcp could answer becomes 503 (unavailable.py), never a raw 500.
"""

import json
import time

from mcp.server.auth.middleware.auth_context import auth_context_var
from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from mcp.server.auth.provider import TokenVerifier
from starlette.authentication import AuthCredentials, UnauthenticatedUser

from controlplane.database import DATABASE_UNAVAILABLE, database_outage
from mcpbridge.server.telemetry import Telemetry
from mcpbridge.transports.refusals import Attempt, attempts
from mcpbridge.transports.stepup import StepUpChallenge
from mcpbridge.transports.unavailable import unavailable_response

_AUTHORIZATION = b"authorization"


class McpGate:
    def __init__(
        self,
        app,
        *,
        path: str,
        verifier: TokenVerifier,
        resource_metadata_url: str,
        telemetry: Telemetry,
        step_up: StepUpChallenge | None = None,
    ):
        self.app = app
        self.path = path
        self.verifier = verifier
        self.telemetry = telemetry
        self.step_up = step_up
        self._unauthorized = _unauthorized(resource_metadata_url)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        attempt = Attempt(scope, send, self.telemetry)
        token = attempts.set(attempt)
        try:
            if scope["path"] != self.path:
                # The metadata and OAuth endpoints take no bearer token (as the SDK's middleware leaves them).
                scope["auth"], scope["user"] = AuthCredentials(), UnauthenticatedUser()
                return await self.app(scope, receive, attempt.send)
            if self.step_up is not None and self.step_up.inspects(scope):
                receive = await self.step_up.screen(scope, receive, attempt.send)
                if receive is None:
                    return  # answered 403
            user = await self._authenticate(scope)
            if user is None:
                scope["auth"], scope["user"] = AuthCredentials(), UnauthenticatedUser()
                return await self._unauthorized(attempt.send)
            scope["auth"], scope["user"] = AuthCredentials(user.scopes), user
            authenticated = auth_context_var.set(user)
            try:
                await self.app(scope, receive, attempt.send)
            finally:
                auth_context_var.reset(authenticated)
        except DATABASE_UNAVAILABLE as exc:
            if attempt.started:
                raise
            database_outage.failed(exc)
            await unavailable_response()(scope, receive, send)
        finally:
            attempts.reset(token)

    async def _authenticate(self, scope) -> AuthenticatedUser | None:
        """The SDK's BearerAuthBackend: the first Authorization header, `Bearer <token>` (any case), verified."""
        for name, value in scope["headers"]:
            if name == _AUTHORIZATION:
                header = value.decode("latin-1")
                break
        else:
            return None
        if not header.lower().startswith("bearer "):
            return None
        access = await self.verifier.verify_token(header[7:])
        if access is None or (access.expires_at and access.expires_at < int(time.time())):
            return None
        return AuthenticatedUser(access)


def _unauthorized(resource_metadata_url: str):
    """The SDK's RequireAuthMiddleware answer to a request without a usable token, built once."""
    body = json.dumps({"error": "invalid_token", "error_description": "Authentication required"}).encode()
    challenge = (
        f'Bearer error="invalid_token", error_description="Authentication required", '
        f'resource_metadata="{resource_metadata_url}"'
    ).encode()
    start = {
        "type": "http.response.start",
        "status": 401,
        "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"www-authenticate", challenge),
        ],
    }

    async def respond(send) -> None:
        await send(dict(start))
        await send({"type": "http.response.body", "body": body})

    return respond
