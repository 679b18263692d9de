"""The authorization server's HTTP endpoints, served by the MCP app (Starlette) next to /mcp: discovery
metadata, /oauth/authorize, /oauth/token, /oauth/register and /oauth/revoke. The consent page is Django's."""

from anyio import to_thread
from django.conf import settings
from mcp.server.auth.handlers.authorize import AuthorizationHandler
from mcp.server.auth.handlers.metadata import MetadataHandler
from mcp.server.auth.handlers.register import RegistrationHandler
from mcp.server.auth.handlers.token import TokenHandler
from mcp.server.auth.middleware.client_auth import ClientAuthenticator
from mcp.server.auth.routes import cors_middleware, create_protected_resource_routes
from mcp.server.transport_security import RequestBodyLimitMiddleware
from mcp.shared.inbound import MCP_PROTOCOL_VERSION_HEADER
from mcp.server.auth.settings import ClientRegistrationOptions
from mcp.shared.auth import OAuthMetadata
from pydantic import AnyHttpUrl
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.middleware.cors import CORSMiddleware
from starlette.routing import Route, request_response

from oauthserver.provider import ControlPlaneAuthorizationProvider, registration_address
from tenants.api.ratelimit import RETRY_AFTER_SECONDS, RateLimitUnavailable, rate_limit_hit
from tenants.capabilities import ALL_CAPABILITIES
from tenants.services.refusals import client_network

AUTHORIZATION_PATH = "/oauth/authorize"
TOKEN_PATH = "/oauth/token"
REGISTRATION_PATH = "/oauth/register"
REVOCATION_PATH = "/oauth/revoke"
CONSENT_PATH = "/oauth/consent"
METADATA_PATHS = ("/.well-known/oauth-authorization-server", "/.well-known/openid-configuration")
# Paths the main ASGI app hands to the MCP app rather than to Django.
STARLETTE_PATHS = frozenset({AUTHORIZATION_PATH, TOKEN_PATH, REGISTRATION_PATH, REVOCATION_PATH, *METADATA_PATHS})
SCOPES = sorted(ALL_CAPABILITIES)
# Every OAuth request is a small form or JSON document.
_MAX_BODY_BYTES = 64 * 1024


def _endpoint(handler, methods: list[str], *, cors: bool = True):
    limited = RequestBodyLimitMiddleware(request_response(handler), _MAX_BODY_BYTES)
    if not cors:
        return limited
    return CORSMiddleware(
        app=limited, allow_origins="*", allow_methods=methods, allow_headers=[MCP_PROTOCOL_VERSION_HEADER]
    )


def authorization_server_metadata(issuer: str) -> OAuthMetadata:
    return OAuthMetadata(
        issuer=AnyHttpUrl(issuer),
        authorization_endpoint=AnyHttpUrl(issuer + AUTHORIZATION_PATH),
        token_endpoint=AnyHttpUrl(issuer + TOKEN_PATH),
        registration_endpoint=AnyHttpUrl(issuer + REGISTRATION_PATH),
        revocation_endpoint=AnyHttpUrl(issuer + REVOCATION_PATH),
        scopes_supported=SCOPES,
        response_types_supported=["code"],
        grant_types_supported=["authorization_code", "refresh_token"],
        # Every client is public: PKCE proves who redeems a code, rotation guards the refresh tokens.
        token_endpoint_auth_methods_supported=["none"],
        revocation_endpoint_auth_methods_supported=["none"],
        code_challenge_methods_supported=["S256"],
        client_id_metadata_document_supported=True,
    )


# Authorization requests per client network and minute. Each one stores a row until it expires (and may make the
# server fetch a metadata document): a person starts a handful and a test suite a few dozen; a flood is refused
# here before anything is stored.
AUTHORIZATIONS_PER_MINUTE = 120
# Token requests per client network and minute: each refresh writes a token pair, so a client looping on refresh
# would spend the database every tenant shares. A client refreshes every OAUTH_ACCESS_TOKEN_SECONDS.
TOKEN_REQUESTS_PER_MINUTE = 120


async def _over_rate(request: Request, namespace: str, per_minute: int, what: str, error: str) -> Response | None:
    """None when this client network (an IPv4 address, an IPv6 /64: one host owns a whole /64) is within
    `per_minute`, else the refusal to send: 429 with Retry-After, or 503 while the rate limit's store is
    unreachable (fails closed, like every limit guarding shared capacity)."""
    address = request.client.host if request.client else "unknown"
    try:
        wait = await to_thread.run_sync(rate_limit_hit, namespace, client_network(address), per_minute)
    except RateLimitUnavailable:
        return JSONResponse(
            {"error": "temporarily_unavailable", "error_description": f"{what} is briefly unavailable; retry soon."},
            status_code=503,
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    if wait is None:
        return None
    return JSONResponse(
        {"error": error, "error_description": f"Too many {what.lower()}s from this network; retry in {wait} s."},
        status_code=429,
        headers={"Retry-After": str(wait)},
    )


class RateLimitedRegistration:
    """RFC 7591 registration, at most OAUTH_REGISTRATIONS_PER_MINUTE per client network."""

    def __init__(self, handler: RegistrationHandler):
        self.handler = handler

    async def handle(self, request: Request) -> Response:
        per_minute = settings.OAUTH_REGISTRATIONS_PER_MINUTE
        refused = await _over_rate(request, "oauth-register", per_minute, "Registration", "invalid_client_metadata")
        if refused is not None:
            return refused
        address = request.client.host if request.client else "unknown"
        token = registration_address.set(address)
        try:
            return await self.handler.handle(request)
        finally:
            registration_address.reset(token)


class RateLimited:
    """One of the SDK's endpoints, at most `per_minute` requests per client network."""

    def __init__(self, handler, *, namespace: str, per_minute: int, what: str):
        self.handler, self.namespace, self.per_minute, self.what = handler, namespace, per_minute, what

    async def handle(self, request: Request) -> Response:
        refused = await _over_rate(request, self.namespace, self.per_minute, self.what, "temporarily_unavailable")
        return refused if refused is not None else await self.handler.handle(request)


class PublicClientRevocation:
    """RFC 7009 for public clients. (The SDK's handler insists on a client_secret field, which a public client
    does not have.) Unknown tokens and other clients' tokens get the same empty 200, as the RFC asks."""

    def __init__(self, provider: ControlPlaneAuthorizationProvider):
        self.provider = provider

    async def handle(self, request: Request) -> Response:
        form = await request.form()
        token, client_id = form.get("token"), form.get("client_id")
        if not isinstance(token, str) or not token or not isinstance(client_id, str) or not client_id:
            return JSONResponse(
                {"error": "invalid_request", "error_description": "Send token and client_id as form fields."},
                status_code=400,
            )
        client = await self.provider.get_client(client_id)
        if client is None:
            return JSONResponse(
                {"error": "invalid_client", "error_description": "Unknown or blocked client."}, status_code=401
            )
        found = await self.provider.load_access_token(token) or await self.provider.load_refresh_token(client, token)
        if found is not None and found.client_id == client.client_id:
            await self.provider.revoke_token(found)
        return Response(status_code=200, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})


def authorization_routes(*, issuer: str, resource: str) -> list[Route]:
    """Every route of the authorization server, plus the RFC 9728 metadata of `resource` naming it."""
    provider = ControlPlaneAuthorizationProvider(resource=resource, consent_url=issuer + CONSENT_PATH)
    known_clients = ControlPlaneAuthorizationProvider(
        resource=resource, consent_url=issuer + CONSENT_PATH, fetch_unknown_documents=False
    )
    authenticator = ClientAuthenticator(known_clients)
    metadata = MetadataHandler(authorization_server_metadata(issuer)).handle
    authorize = RateLimited(
        AuthorizationHandler(provider),
        namespace="oauth-authorize", per_minute=AUTHORIZATIONS_PER_MINUTE, what="Authorization request",
    )
    token = RateLimited(
        TokenHandler(provider, authenticator),
        namespace="oauth-token", per_minute=TOKEN_REQUESTS_PER_MINUTE, what="Token request",
    )
    registration = RegistrationHandler(
        provider, options=ClientRegistrationOptions(enabled=True, valid_scopes=SCOPES)
    )
    routes = create_protected_resource_routes(
        resource_url=AnyHttpUrl(resource),
        authorization_servers=[AnyHttpUrl(issuer)],
        scopes_supported=SCOPES,
        resource_name="MCP control plane",
    )
    routes += [
        Route(path, endpoint=cors_middleware(metadata, ["GET", "OPTIONS"]), methods=["GET", "OPTIONS"])
        for path in METADATA_PATHS
    ]
    routes += [
        # No CORS on the authorization endpoint: browsers are sent there, scripts have no business calling it.
        Route(AUTHORIZATION_PATH, endpoint=_endpoint(authorize.handle, [], cors=False), methods=["GET", "POST"]),
        Route(TOKEN_PATH, endpoint=_endpoint(token.handle, ["POST", "OPTIONS"]), methods=["POST", "OPTIONS"]),
        Route(REGISTRATION_PATH, endpoint=_endpoint(RateLimitedRegistration(registration).handle, ["POST", "OPTIONS"]),
              methods=["POST", "OPTIONS"]),
        Route(REVOCATION_PATH, endpoint=_endpoint(PublicClientRevocation(known_clients).handle, ["POST", "OPTIONS"]),
              methods=["POST", "OPTIONS"]),
    ]
    return routes
