"""The gate in front of /mcp does the SDK's bearer check in its own layer: these pin it to the SDK's answers
(the 401 byte for byte, the scheme in any case, expired tokens refused) and to what the MCP server reads (the
authenticated user in the scope, the token in the SDK's auth context), with the audit and the 503 around it."""

import time

import anyio
from django.db import OperationalError
from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser, RequireAuthMiddleware
from mcp.server.auth.provider import AccessToken

from mcpbridge.transports.gate import McpGate

METADATA = "http://testserver/.well-known/oauth-protected-resource/mcp"


class Verifier:
    def __init__(self, expires_at=None):
        self.expires_at = expires_at

    async def verify_token(self, token):
        if token != "good":
            return None
        return AccessToken(token=token, client_id="holder", scopes=[], expires_at=self.expires_at)


class Telemetry:
    def __init__(self):
        self.refusals = []

    def record_refusal(self, refusal):
        self.refusals.append(refusal)


def _scope(path="/mcp", authorization=None):
    headers = [(b"host", b"testserver"), (b"accept", b"application/json")]
    if authorization is not None:
        headers.append((b"authorization", authorization.encode()))
    return {"type": "http", "method": "POST", "path": path, "headers": headers, "client": ("10.0.0.7", 4000)}


def _serve(gate, scope):
    sent = []

    async def receive():
        return {"type": "http.request", "body": b"{}", "more_body": False}

    async def send(message):
        sent.append(message)

    anyio.run(gate, scope, receive, send)
    return sent


def _gate(inner, **verifier):
    telemetry = Telemetry()
    gate = McpGate(inner, path="/mcp", verifier=Verifier(**verifier), resource_metadata_url=METADATA, telemetry=telemetry)
    return gate, telemetry


async def _ok(scope, receive, send):
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


def test_a_request_without_a_usable_token_gets_the_sdks_401_and_is_audited():
    expected = []

    async def collect(message):
        expected.append(message)

    require = RequireAuthMiddleware(None, [], METADATA)
    anyio.run(require._send_auth_error, collect, 401, "invalid_token", "Authentication required")

    for authorization in (None, "Bearer wrong", "Basic good", "Bearer"):
        gate, telemetry = _gate(_ok)
        assert _serve(gate, _scope(authorization=authorization)) == expected, authorization
        assert [(r.reason, r.address) for r in telemetry.refusals] == [("missing_credentials", "10.0.0.7")]


def test_a_good_token_reaches_the_app_as_the_authenticated_user_in_any_scheme_case():
    seen = []

    async def inner(scope, receive, send):
        seen.append((scope["user"], get_access_token()))
        await _ok(scope, receive, send)

    for scheme in ("Bearer", "bearer", "BEARER"):
        gate, telemetry = _gate(inner)
        assert _serve(gate, _scope(authorization=f"{scheme} good"))[0]["status"] == 200
    assert [(type(user), token.token) for user, token in seen] == [(AuthenticatedUser, "good")] * 3
    assert get_access_token() is None  # the auth context ends with the request
    assert telemetry.refusals == []


def test_an_expired_token_is_refused():
    gate, _ = _gate(_ok, expires_at=int(time.time()) - 10)
    assert _serve(gate, _scope(authorization="Bearer good"))[0]["status"] == 401


def test_other_paths_take_no_bearer_token_and_are_not_refused():
    seen = []

    async def inner(scope, receive, send):
        seen.append(scope["user"].is_authenticated)
        await _ok(scope, receive, send)

    gate, telemetry = _gate(inner)
    assert _serve(gate, _scope(path="/oauth/token"))[0]["status"] == 200
    assert seen == [False] and telemetry.refusals == []


def test_a_database_lost_before_the_answer_started_is_503():
    async def inner(scope, receive, send):
        raise OperationalError("connection refused")

    gate, _ = _gate(inner)
    start = _serve(gate, _scope(authorization="Bearer good"))[0]
    assert start["status"] == 503
    assert (b"retry-after", b"1") in start["headers"]
