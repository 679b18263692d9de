"""Streamable HTTP: bearer API keys and OAuth access tokens checked by our token verifier in one gate (gate.py),
RFC 9728 metadata, DNS-rebinding protection from settings. Used by `runmcp --transport http` and mounted at /mcp in the main ASGI app."""

import asyncio
import logging
import math
import socket
from functools import partial

import anyio
import uvicorn
from anyio import to_thread
from django.conf import settings
from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.auth.provider import AccessToken
from mcp.server.auth.routes import build_resource_metadata_url
from mcp.server.auth.settings import AuthSettings
from mcp.server.transport_security import TransportSecuritySettings
from pydantic import AnyHttpUrl, PrivateAttr
from sse_starlette.sse import AppStatus
from starlette.applications import Starlette

from controlplane.database import read_on_kept_connection
from mcpbridge.models import McpSession
from mcpbridge.server import Runtime, build_server
from mcpbridge.server.errors import Refusal
from mcpbridge.transports.admission import SessionAdmission
from mcpbridge.transports.gate import McpGate
from mcpbridge.transports.refusals import note_refused_key
from mcpbridge.transports.replicas import prepare_for_replicas
from mcpbridge.transports.stepup import StepUpChallenge
from oauthserver.policy import is_oauth_access_token, oauth_token_holder, resolve_bearer, resolve_known_bearer
from oauthserver.routes import authorization_routes
from tenants.policy import Principal, ResolutionError
from tenants.services import RefusalDoor

logger = logging.getLogger(__name__)

MCP_PATH = "/mcp"
_FLUSH_SECONDS = 0.5


class ApiKeyToken(AccessToken):
    """The bearer API key, carrying what resolving it found while this very request was authenticated, so
    the pipeline does not resolve it a second time (one thread hop and one policy read fewer per request)."""

    _resolution: Principal | ResolutionError | None = PrivateAttr(default=None)


class ApiKeyTokenVerifier:
    """Bearer token = API key or OAuth access token bound to `resource`. Unknown, revoked and expired ones get
    401; a key of a suspended tenant is let through so the pipeline can answer with the tenant error (-32002)
    and its reason."""

    def __init__(self, resource: str | None = None):
        self.resource = resource

    async def verify_token(self, token: str) -> AccessToken | None:
        # Resolved against the current policy version on every request: a revocation applies to the next one.
        # When this process already knows the answer at the current version (with the shared policy version
        # file), it is taken here; otherwise one worker-thread hop, whatever the credential.
        known = resolve_known_bearer(token, resource=self.resource)
        try:
            if known is not None:
                resolution, holder = _let_through(known[0]), known[1]
            else:
                resolution, holder = await to_thread.run_sync(read_on_kept_connection, partial(self._resolve, token))
        except ResolutionError as exc:
            note_refused_key(exc)
            return None
        access = ApiKeyToken(token=token, client_id=holder, scopes=[])
        access._resolution = resolution
        return access

    def _resolve(self, token: str) -> tuple[Principal | ResolutionError, str]:
        """What the token resolves to (a tenant error included: the pipeline answers it) and who holds it."""
        try:
            resolution = resolve_bearer(token, resource=self.resource)
        except ResolutionError as exc:
            resolution = _let_through(exc)
        # The same identity whatever the key's state, so a session keeps one owner when its tenant is suspended;
        # for OAuth the client and the person, so a session survives a refresh or a step-up.
        holder = resolution.key_prefix
        if is_oauth_access_token(token):
            holder = oauth_token_holder(token) or holder
        return resolution, holder


def _let_through(resolution: Principal | ResolutionError) -> Principal | ResolutionError:
    """A tenant error is the pipeline's to answer (-32002 with its reason); any other refusal is a 401."""
    if isinstance(resolution, ResolutionError) and not resolution.is_tenant_error:
        raise resolution
    return resolution


def bearer_key(_ctx) -> str | None:
    token = get_access_token()
    return token.token if token is not None else None


def bearer_resolution(_ctx) -> Principal | ResolutionError | None:
    token = get_access_token()
    return token._resolution if isinstance(token, ApiKeyToken) else None


def build_http_app(*, public_url: str | None = None, authorization_server: bool = False) -> Starlette:
    """`authorization_server`: also serve the OAuth endpoints (the main ASGI app, where Django serves the
    consent page; `runmcp --transport http` alone has no consent page, so it takes API keys only)."""
    public_url = (public_url or settings.MCP_PUBLIC_URL).rstrip("/")
    runtime = Runtime(transport=McpSession.Transport.HTTP, credential=bearer_key, resolution=bearer_resolution)
    server = build_server(runtime)
    app = server.streamable_http_app(
        streamable_http_path=MCP_PATH,
        json_response=settings.MCP_HTTP_JSON_RESPONSE,
        session_idle_timeout=settings.MCP_SESSION_IDLE_SECONDS,
        transport_security=TransportSecuritySettings(
            enable_dns_rebinding_protection=True,
            allowed_hosts=settings.MCP_ALLOWED_HOSTS,
            allowed_origins=settings.MCP_ALLOWED_ORIGINS,
        ),
        # The RFC 9728 metadata route from the SDK; its bearer check (three ASGI layers with no token verifier
        # given here) is done by the gate below, in one.
        auth=AuthSettings(
            issuer_url=public_url, resource_server_url=public_url + MCP_PATH, validate_token_resource=False
        ),
    )
    if authorization_server:
        # Ahead of the SDK's own metadata route, so the resource metadata lists the capabilities as scopes; behind
        # /mcp itself, which the router then matches first (each route ahead of it is a pattern match per call).
        after_mcp = next(n for n, route in enumerate(app.router.routes) if getattr(route, "path", None) == MCP_PATH) + 1
        app.router.routes[after_mcp:after_mcp] = authorization_routes(issuer=public_url, resource=public_url + MCP_PATH)
    resource_metadata_url = str(build_resource_metadata_url(AnyHttpUrl(public_url + MCP_PATH)))
    step_up = StepUpChallenge(path=MCP_PATH, resource=public_url + MCP_PATH, resource_metadata_url=resource_metadata_url)
    # One layer for step-up, the bearer check, the 401 audit and the 503 on a lost database (one `send` wrapper).
    app.add_middleware(
        McpGate,
        path=MCP_PATH,
        verifier=ApiKeyTokenVerifier(resource=public_url + MCP_PATH),
        resource_metadata_url=resource_metadata_url,
        telemetry=runtime.telemetry,
        step_up=step_up,
    )
    manager = server.session_manager
    prepare_for_replicas(manager)

    async def close_session(live) -> None:
        # The SDK has no public "end this session" call; discarding it answers 404 to its next request.
        transport = manager._server_instances.get(live.transport_session_id)
        if transport is not None:
            await manager._discard_session(live.transport_session_id, transport)

    def transport_idle_seconds(live) -> float | None:
        # The SDK suspends a session's idle countdown (deadline infinite) while any request or event stream is
        # open, and restarts it when the last one ends: how long ago that was is how long the client is gone.
        transport = manager._server_instances.get(live.transport_session_id)
        scope = transport.idle_scope if transport is not None else None
        if scope is None or math.isinf(scope.deadline):
            return None
        return anyio.current_time() - (scope.deadline - manager.session_idle_timeout)

    serve_opening_request = manager._serve_opening_request

    async def serve_opening_request_or_discard(http_transport, scope, receive, send) -> None:
        # The SDK keeps a session whose opening request got any HTTP 2xx, a JSON-RPC error included; one we
        # refused (or that never became a session of ours) must not stay registered.
        try:
            await serve_opening_request(http_transport, scope, receive, send)
        finally:
            session_id = http_transport.mcp_session_id
            if session_id in manager._server_instances and not runtime.has_session(session_id):
                await manager._discard_session(session_id, http_transport)

    runtime.close_session = close_session
    runtime.transport_idle_seconds = transport_idle_seconds
    manager._serve_opening_request = serve_opening_request_or_discard
    async def initialize_refusal(user, address: str) -> Refusal | None:
        token = user.access_token
        resolution = token._resolution if isinstance(token, ApiKeyToken) else None
        return await to_thread.run_sync(
            partial(
                runtime.session_refusal, token.token, resolution, door=RefusalDoor.MCP_HTTP, address=address
            )
        )

    def initialize_rate_limited(user, refusal: Refusal) -> None:
        token = user.access_token
        runtime.session_rate_limited(token._resolution if isinstance(token, ApiKeyToken) else None, refusal)

    manager.asgi_app = SessionAdmission(
        manager.asgi_app,
        precheck=initialize_refusal,
        on_rate_limited=initialize_rate_limited,
        redis_url=settings.REDIS_URL,
    )
    app.state.runtime = runtime
    return app


class DrainingServer(uvicorn.Server):
    """On SIGTERM: stop accepting, let running calls finish (up to the grace period), then end the event
    streams and shut down. sse-starlette (the SDK's SSE layer) would otherwise end every stream, the
    responses of running calls included, the moment the signal arrives."""

    def __init__(self, config, runtime):
        super().__init__(config)
        self.runtime = runtime
        AppStatus.disable_automatic_graceful_drain()

    async def shutdown(self, sockets=None):
        for server in self.servers:
            server.close()
        for sock in sockets or []:
            sock.close()
        if not await self.runtime.drained(settings.MCP_SHUTDOWN_GRACE_SECONDS):
            logger.warning("Calls still running after %s s; shutting down anyway", settings.MCP_SHUTDOWN_GRACE_SECONDS)
        # A finished call's answer is still on its way through the response stream; let it reach the socket.
        await asyncio.sleep(_FLUSH_SECONDS)
        AppStatus.should_exit = True
        await super().shutdown(sockets)


def serve_http(*, host: str, port: int, public_url: str | None = None) -> None:
    """Serve until SIGINT/SIGTERM: then stop accepting, let running requests finish, and exit."""
    server, sock = http_server(host=host, port=port, public_url=public_url)
    server.run(sockets=[sock])


def http_server(*, host: str, port: int, public_url: str | None = None) -> tuple[DrainingServer, socket.socket]:
    """The server `serve_http` runs, and its bound listening socket (port 0 picks a free port)."""
    sock = listening_socket(host, port)
    bound_port = sock.getsockname()[1]
    shown_host = f"[{host}]" if sock.family == socket.AF_INET6 else host
    app = build_http_app(public_url=public_url or f"http://{shown_host}:{bound_port}")
    config = uvicorn.Config(
        app,
        lifespan="on",
        log_config=None,
        timeout_graceful_shutdown=settings.MCP_SHUTDOWN_GRACE_SECONDS,
    )
    logger.warning("MCP Streamable HTTP server listening on http://%s:%d%s", shown_host, bound_port, MCP_PATH)
    return DrainingServer(config, app.state.runtime), sock


def listening_socket(host: str, port: int) -> socket.socket:
    # asyncio sets TCP_NODELAY on accepted connections only when the listener's proto is IPPROTO_TCP; with
    # proto 0 every SSE answer waits ~40 ms for the client's delayed ACK (Nagle).
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    return sock
