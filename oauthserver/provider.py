"""The MCP SDK's authorization-server protocol, implemented on this app's services.

The SDK's handlers parse and validate the OAuth requests (PKCE S256 only, redirect URI match, code verifier,
grant types, RFC 7009); this provider stores and checks everything else in the database.
"""

import contextvars

from anyio import to_thread
from django.db import close_old_connections
from mcp.server.auth.provider import (
    AccessToken,
    AuthorizationCode,
    AuthorizationParams,
    AuthorizeError,
    RefreshToken,
    RegistrationError,
    TokenError,
)
from mcp.shared.auth import OAuthClientInformationFull, OAuthToken

from oauthserver import selectors
from oauthserver.models import OAuthClient
from oauthserver.services import clients as client_services
from oauthserver.services import tokens as token_services
from oauthserver.services.metadata_documents import is_metadata_document_url, metadata_document_client
from tenants.capabilities import ALL_CAPABILITIES
from tenants.services.errors import ServiceError

# The registering client's address, set by the rate-limited registration route for register_client.
registration_address: contextvars.ContextVar[str | None] = contextvars.ContextVar("registration_address", default=None)
_SCOPE = " ".join(sorted(ALL_CAPABILITIES))
_GRANT_TYPES = ["authorization_code", "refresh_token"]


class StoredCode(AuthorizationCode):
    record_pk: str


class StoredRefreshToken(RefreshToken):
    record_pk: int


class StoredAccessToken(AccessToken):
    record_pk: int


async def _db(fn, /, **kwargs):
    def run():
        close_old_connections()
        try:
            return fn(**kwargs)
        finally:
            close_old_connections()

    return await to_thread.run_sync(run)


def client_information(client: OAuthClient) -> OAuthClientInformationFull:
    return OAuthClientInformationFull(
        client_id=client.client_id,
        client_name=client.name or None,
        redirect_uris=client.redirect_uris,
        token_endpoint_auth_method="none",
        grant_types=_GRANT_TYPES,
        response_types=["code"],
        # Every capability is a valid scope; what is granted is decided on the consent page.
        scope=_SCOPE,
    )


def _tokens(issued: token_services.IssuedTokens) -> OAuthToken:
    return OAuthToken(
        access_token=issued.access_token,
        expires_in=issued.expires_in,
        refresh_token=issued.refresh_token,
        scope=" ".join(issued.scopes),
    )


class ControlPlaneAuthorizationProvider:
    def __init__(self, *, resource: str, consent_url: str, fetch_unknown_documents: bool = True):
        self.resource = resource
        self.consent_url = consent_url.rstrip("/")
        # Off for the token and revocation endpoints: a client they have never seen holds no code and no token,
        # so there is nothing to fetch a document for (anyone could otherwise make the server fetch and store one
        # client per URL they invent).
        self.fetch_unknown_documents = fetch_unknown_documents

    async def get_client(self, client_id: str) -> OAuthClientInformationFull | None:
        if is_metadata_document_url(client_id):
            client = await _db(
                metadata_document_client, client_id=client_id, fetch_unknown=self.fetch_unknown_documents
            )
        else:
            client = await _db(selectors.client_usable, client_id=client_id)
        return client_information(client) if client is not None else None

    async def register_client(self, client_info: OAuthClientInformationFull) -> None:
        try:
            await _db(
                client_services.client_register_dynamic,
                client_id=client_info.client_id,
                name=client_info.client_name or "",
                redirect_uris=client_info.redirect_uris,
                metadata=client_info.model_dump(
                    mode="json", exclude={"client_secret", "client_secret_expires_at"}, exclude_none=True
                ),
                address=registration_address.get(),
            )
        except ServiceError as exc:
            raise RegistrationError("invalid_redirect_uri", exc.message) from None
        # Every client here is public (PKCE, rotated refresh tokens): no secret is kept, so none is handed out.
        # The SDK's handler answers with this very object, so the client learns it (RFC 7591 §3.2.1).
        client_info.client_secret = None
        client_info.client_secret_expires_at = None
        client_info.token_endpoint_auth_method = "none"
        client_info.scope = _SCOPE if client_info.scope is None else client_info.scope

    async def authorize(self, client: OAuthClientInformationFull, params: AuthorizationParams) -> str:
        if not params.resource:
            raise AuthorizeError("invalid_request", f"The resource parameter is required; use {self.resource}.")
        if params.resource.rstrip("/") != self.resource:
            raise AuthorizeError("invalid_target", f"This server issues tokens for {self.resource} only.")
        stored = await _db(selectors.client_usable, client_id=client.client_id)
        if stored is None:
            raise AuthorizeError("unauthorized_client", "This client is blocked.")
        try:
            request = await _db(
                token_services.authorization_request_create,
                client=stored,
                redirect_uri=str(params.redirect_uri),
                redirect_uri_explicit=params.redirect_uri_provided_explicitly,
                code_challenge=params.code_challenge,
                state=params.state,
                scopes=params.scopes,
                resource=self.resource,
            )
        except ServiceError as exc:
            raise AuthorizeError("invalid_request", exc.message) from None
        return f"{self.consent_url}/{request.pk}/"

    async def load_authorization_code(self, client: OAuthClientInformationFull, authorization_code: str):
        stored = await _db(selectors.client_usable, client_id=client.client_id)
        if stored is None:
            return None
        code = await _db(token_services.code_load, client=stored, raw_code=authorization_code)
        if code is None:
            return None
        return StoredCode(
            code=authorization_code,
            scopes=code.grant.scopes,
            expires_at=code.expires_at.timestamp(),
            client_id=client.client_id,
            code_challenge=code.code_challenge,
            redirect_uri=code.redirect_uri,
            redirect_uri_provided_explicitly=code.redirect_uri_explicit,
            resource=code.grant.resource,
            subject=str(code.grant.membership.user_id),
            record_pk=code.pk,
        )

    async def exchange_authorization_code(self, client: OAuthClientInformationFull, authorization_code) -> OAuthToken:
        try:
            return _tokens(await _db(token_services.code_exchange, code_digest=authorization_code.record_pk))
        except ValueError:
            raise TokenError("invalid_grant", "authorization code already used") from None

    async def load_refresh_token(self, client: OAuthClientInformationFull, refresh_token: str):
        stored_client = await _db(selectors.client_usable, client_id=client.client_id)
        if stored_client is None:
            return None
        token = await _db(token_services.refresh_token_load, client=stored_client, raw_token=refresh_token)
        if token is None:
            return None
        return StoredRefreshToken(
            token=refresh_token,
            client_id=client.client_id,
            scopes=token.scopes,
            expires_at=int(token.expires_at.timestamp()),
            resource=token.grant.resource,
            record_pk=token.pk,
        )

    async def exchange_refresh_token(self, client, refresh_token, scopes: list[str]) -> OAuthToken:
        try:
            issued = await _db(token_services.refresh_token_rotate, token_pk=refresh_token.record_pk, scopes=scopes)
            return _tokens(issued)
        except ValueError:
            raise TokenError("invalid_grant", "refresh token already used") from None

    async def load_access_token(self, token: str):
        # Only the revocation endpoint calls this here; bearer tokens on /mcp go through the policy resolver.
        stored = await _db(token_services.access_token_find, raw_token=token)
        if stored is None:
            return None
        return StoredAccessToken(
            token=token,
            client_id=stored.grant.client.client_id,
            scopes=stored.scopes,
            expires_at=int(stored.expires_at.timestamp()),
            resource=stored.grant.resource,
            record_pk=stored.pk,
        )

    async def revoke_token(self, token) -> None:
        await _db(token_services.token_revoke, token_pk=token.record_pk)
