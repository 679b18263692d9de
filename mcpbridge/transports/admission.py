"""Admission of new Streamable HTTP sessions, in front of the SDK's session manager.

A request that would open a session (a POST without `Mcp-Session-Id` in a handshake-era protocol) makes the
SDK register a session before anything of ours runs. So here, before that: opening requests are rate-limited
per API key and per client address (HTTP 429), and an `initialize` the server would refuse anyway (tenant
suspended, no room under the session caps) gets its JSON-RPC error without a session ever existing. Runs after
the bearer check, so only keys that resolved reach it: a flood of unknown keys is answered 401 by the SDK and
never opens anything.
"""

import json
import math
import time
from collections.abc import Awaitable, Callable

from django.conf import settings
from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from mcp.server.streamable_http import MCP_SESSION_ID_HEADER
from mcp.shared.inbound import MCP_PROTOCOL_VERSION_HEADER
from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS

from mcpbridge.server.errors import RATE_LIMITED, Refusal, rate_limited
from controlplane.outages import STORE_ERRORS, store_outage
from mcpbridge.server.limiter import rate_windows
from tenants.services.refusals import client_network

PER_KEY = "mcp_initialize_per_key"
PER_ADDRESS = "mcp_initialize_per_address"
_SESSION_HEADER = MCP_SESSION_ID_HEADER.lower().encode("ascii")
_VERSION_HEADER = MCP_PROTOCOL_VERSION_HEADER.lower().encode("ascii")
# Opening requests larger than this are left to the SDK (which limits bodies itself) without a pre-check.
_PRECHECK_MAX_BODY = 64 * 1024

# Given the authenticated user of an `initialize`, the refusal it would get, or None when it may proceed.
Precheck = Callable[[AuthenticatedUser, str], Awaitable[Refusal | None]]
# Told of each opening request refused by a rate: the authenticated user and the refusal.
OnRateLimited = Callable[[AuthenticatedUser, Refusal], None]


class SessionAdmission:
    """ASGI wrapper of the session manager's app: opening requests over their rate answer 429."""

    def __init__(
        self,
        app,
        *,
        precheck: Precheck | None = None,
        on_rate_limited: OnRateLimited | None = None,
        redis_url: str = "",
        per_key: int | None = None,
        per_address: int | None = None,
    ):
        self.app = app
        self.precheck = precheck
        self.on_rate_limited = on_rate_limited
        self.windows = rate_windows(redis_url)
        self.fallback_windows = rate_windows()
        self.outage = store_outage(redis_url) if redis_url else None
        self.per_key = settings.MCP_INITIALIZE_RATE_PER_MINUTE_PER_KEY if per_key is None else per_key
        self.per_address = settings.MCP_INITIALIZE_RATE_PER_MINUTE_PER_ADDRESS if per_address is None else per_address

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and _opens_session(scope):
            user = scope.get("user")
            started = time.monotonic()
            try:
                refusal = self._refusal(scope, self.windows)
            except STORE_ERRORS as exc:
                # The shared windows cannot be read: this process's own windows hold the line meanwhile, so new
                # sessions stay bounded per process while Redis is away (one log line per outage).
                self.outage.failed(exc)
                refusal = self._refusal(scope, self.fallback_windows)
            else:
                if self.outage is not None:
                    self.outage.succeeded(started)
            if refusal is not None:
                if self.on_rate_limited is not None and isinstance(user, AuthenticatedUser):
                    self.on_rate_limited(user, _rate_refusal(*refusal))
                return await _too_many(*refusal)(scope, receive, send)
            if self.precheck is not None and isinstance(user, AuthenticatedUser):
                body, receive = await _buffered(receive)
                request_id = _initialize_id(body)
                if request_id is not None:
                    refused = await self.precheck(user, (scope.get("client") or ("",))[0])
                    if refused is not None:
                        return await _json_rpc_error(request_id, refused)(scope, receive, send)
        return await self.app(scope, receive, send)

    def _refusal(self, scope, windows) -> tuple[str, int, float] | None:
        user = scope.get("user")
        key = user.access_token.client_id if isinstance(user, AuthenticatedUser) else ""
        # An IPv6 client counts by its /64, which one host owns whole.
        address = client_network((scope.get("client") or ("unknown",))[0])
        # The key's window first: what it refuses never takes a slot of the address's window.
        for limit, identity, maximum in ((PER_KEY, key, self.per_key), (PER_ADDRESS, address, self.per_address)):
            if not identity:
                continue
            wait = windows.hit(limit, identity, maximum, 60, 1)
            if wait is not None:
                return limit, maximum, wait
        return None


def _opens_session(scope) -> bool:
    # Runs for every request: one pass over the headers, stopping at a session id (any request but the first).
    if scope.get("method") != "POST":
        return False
    version = None
    for name, value in scope.get("headers") or ():
        if name == _SESSION_HEADER:
            return False
        if name == _VERSION_HEADER:
            version = value
    return version is None or version.decode("latin-1") in HANDSHAKE_PROTOCOL_VERSIONS


async def _buffered(receive):
    """Read the request body (up to _PRECHECK_MAX_BODY) and a receive callable that replays it."""
    chunks, size, more = [], 0, True
    while more and size <= _PRECHECK_MAX_BODY:
        message = await receive()
        if message["type"] != "http.request":
            chunks.append(message)
            break
        chunks.append(message)
        size += len(message.get("body", b""))
        more = message.get("more_body", False)
    replay = list(chunks)

    async def replaying():
        return replay.pop(0) if replay else await receive()

    body = b"".join(m.get("body", b"") for m in chunks if m["type"] == "http.request") if not more else b""
    return body, replaying


def _initialize_id(body: bytes):
    """The id of a well-formed initialize request, else None (the SDK answers anything else itself)."""
    try:
        message = json.loads(body) if body else None
    except ValueError:
        return None
    if not isinstance(message, dict) or message.get("method") != "initialize":
        return None
    request_id = message.get("id")
    return request_id if isinstance(request_id, (str, int)) and not isinstance(request_id, bool) else None


def _json_rpc_error(request_id, refusal: Refusal):
    error = {"code": refusal.code, "message": refusal.message}
    if refusal.data:
        error["data"] = refusal.data
    body = json.dumps({"jsonrpc": "2.0", "id": request_id, "error": error}).encode()

    async def respond(scope, receive, send):
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": body})

    return respond


def _rate_refusal(limit: str, maximum: int, wait: float) -> Refusal:
    return rate_limited(limit, max(1, math.ceil(wait * 1000)), maximum)


def _too_many(limit: str, maximum: int, wait: float):
    retry_after_ms = max(1, math.ceil(wait * 1000))
    body = json.dumps(
        {
            "jsonrpc": "2.0",
            "id": None,
            "error": {
                "code": RATE_LIMITED,
                "message": f"Too many new MCP sessions ({limit}, {maximum} per minute); retry in {retry_after_ms} ms.",
                "data": {"limit": limit, "max": maximum, "retry_after_ms": retry_after_ms},
            },
        }
    ).encode()

    async def respond(scope, receive, send):
        await send(
            {
                "type": "http.response.start",
                "status": 429,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"retry-after", str(max(1, math.ceil(wait))).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    return respond

