"""A call needing a capability the token lacks but the role grants gets 403 insufficient_scope, and the SDK's
provider steps up: the person consents again, the call goes through."""

import anyio
import httpx2
import pytest
from mcp.shared.auth import OAuthClientInformationFull, OAuthToken

from tests.factories import make_tenant
from tests.oauth.conftest import (
    MemoryStorage,
    PersonAtTheBrowser,
    oauth_mcp_client,
    oauth_provider,
    obtain_tokens,
    person_in,
)

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def _call(server_url: str, token: str, tool: str) -> httpx2.Response:
    return httpx2.post(
        server_url + "/mcp",
        json={"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": tool, "arguments": {}}},
        headers={
            "Authorization": f"Bearer {token}",
            "Accept": "application/json, text/event-stream",
            "MCP-Protocol-Version": "2025-11-25",
        },
    )


def test_missing_scope_the_role_grants_is_challenged_and_the_client_steps_up(control_plane):
    user = person_in((make_tenant(), "user"))
    server = control_plane()
    client, tokens = obtain_tokens(server.url, user.username, scope="kv.read")
    assert tokens["scope"] == "kv.read"

    challenged = _call(server.url, tokens["access_token"], "kv_set")
    assert challenged.status_code == 403
    header = challenged.headers["www-authenticate"]
    assert 'error="insufficient_scope"' in header and 'scope="kv.read kv.write"' in header
    assert "resource_metadata=" in header
    # secrets.write is beyond the role: no point asking the person; the pipeline answers as for any hidden tool.
    assert _call(server.url, tokens["access_token"], "secrets_put").status_code != 403

    storage = MemoryStorage()
    storage.client_info = OAuthClientInformationFull.model_validate(client)
    storage.tokens = OAuthToken.model_validate(tokens)
    person = PersonAtTheBrowser(user.username)
    auth = oauth_provider(server.url, person, storage)

    async def main():
        async with oauth_mcp_client(server.url, auth) as session:
            result = await session.call_tool("kv_set", {"key": "k", "value": "v"})
            assert not result.is_error, result
            return (await session.call_tool("kv_get", {"key": "k"})).structured_content

    assert anyio.run(main)["value"] == "v"
    assert len(person.authorization_urls) == 1 and "kv.write" in person.authorization_urls[0]
    assert set(storage.tokens.scope.split()) >= {"kv.read", "kv.write"}
