"""The official MCP client's OAuth provider against the live control plane: discovery, registration, sign-in and
consent, tokens, refresh, tenant separation, revocation."""

import time

import anyio
import pytest

from oauthserver.models import OAuthClient, OAuthGrant
from oauthserver.services.grants import grant_revoke
from tests.factories import ACTOR, make_tenant
from tests.mcp.helpers import ROLE_TOOLS, tool_names
from tests.oauth.conftest import (
    MemoryStorage,
    PersonAtTheBrowser,
    mcp_status,
    oauth_mcp_client,
    oauth_provider,
    person_in,
)

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_dynamic_registration_sign_in_consent_calls_refresh_and_revocation(control_plane):
    alpha, beta = make_tenant("alpha"), make_tenant("beta")
    user = person_in((alpha, "user"), (beta, "admin"))
    server = control_plane()
    storage = MemoryStorage()
    auth = oauth_provider(server.url, PersonAtTheBrowser(user.username, tenant="alpha"), storage)

    async def in_alpha():
        async with oauth_mcp_client(server.url, auth) as client:
            assert await tool_names(client) == ROLE_TOOLS["user"]
            whoami = (await client.call_tool("whoami", {})).structured_content
            await client.call_tool("kv_set", {"key": "greeting", "value": "hello alpha"})
            first = storage.tokens
            # The access token is past its lifetime as far as the client knows: it refreshes before the next call.
            auth.context.token_expiry_time = time.time() - 1
            got = (await client.call_tool("kv_get", {"key": "greeting"})).structured_content
            return whoami, got, first

    whoami, got, first = anyio.run(in_alpha)
    assert whoami["tenant"]["slug"] == "alpha" and whoami["user"]["username"] == user.username
    assert got["value"] == "hello alpha"
    assert storage.tokens.access_token != first.access_token
    assert storage.tokens.refresh_token != first.refresh_token
    client = OAuthClient.objects.get()
    assert client.kind == OAuthClient.Kind.DYNAMIC and client.name == "Test assistant"
    assert storage.client_info.token_endpoint_auth_method == "none" and storage.client_info.client_secret is None

    # The same person, the same client, consenting for beta: another grant, beta's tools, none of alpha's data.
    beta_storage = MemoryStorage()
    beta_storage.client_info = storage.client_info
    beta_auth = oauth_provider(server.url, PersonAtTheBrowser(user.username, tenant="beta"), beta_storage)

    async def in_beta():
        async with oauth_mcp_client(server.url, beta_auth) as client:
            assert await tool_names(client) == ROLE_TOOLS["admin"]
            assert (await client.call_tool("whoami", {})).structured_content["tenant"]["slug"] == "beta"
            return await client.call_tool("kv_get", {"key": "greeting"})

    missing = anyio.run(in_beta)
    assert missing.is_error and "No item" in missing.content[0].text
    assert OAuthGrant.objects.count() == 2

    # Revoking alpha's grant (what the admin action does) refuses its very next call; beta's grant still works.
    grant_revoke(grant=OAuthGrant.objects.get(membership__tenant=alpha), actor=ACTOR, reason="test")
    assert mcp_status(server.url, storage.tokens.access_token) == 401
    assert mcp_status(server.url, beta_storage.tokens.access_token) != 401
