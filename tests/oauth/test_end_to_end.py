"""The official MCP client's OAuth provider against the live control plane: discovery, registration, sign-in and
consent, tokens, refresh, tenant separation, revocation."""

import time

import anyio
import pytest
from mcp.shared.exceptions import MCPError

from oauthserver.models import OAuthGrant
from oauthserver.services.grants import grant_revoke
from tests.factories import ACTOR, make_tenant
from tests.mcp.helpers import ROLE_TOOLS, in_thread, tool_names
from tests.oauth.conftest import MemoryStorage, PersonAtTheBrowser, oauth_mcp_client, oauth_provider, person_in

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_dynamic_registration_sign_in_consent_and_calls(control_plane):
    tenant_a, tenant_b = make_tenant("alpha"), make_tenant("beta")
    user = person_in((tenant_a, "user"), (tenant_b, "admin"))
    server = control_plane()
    person = PersonAtTheBrowser(user.username, tenant="alpha")
    storage = MemoryStorage()
    auth = oauth_provider(server.url, person, storage)

    async def main():
        async with oauth_mcp_client(server.url, auth) as client:
            assert await tool_names(client) == ROLE_TOOLS["user"]
            whoami = (await client.call_tool("whoami", {})).structured_content
            await client.call_tool("kv_set", {"key": "greeting", "value": "hello"})
            got = (await client.call_tool("kv_get", {"key": "greeting"})).structured_content
        return whoami, got

    whoami, got = anyio.run(main)
    assert got["value"] == "hello"
    assert storage.client_info.token_endpoint_auth_method == "none"
    assert storage.tokens.access_token.startswith("cpa_")
