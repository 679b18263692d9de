"""A platform service key is never an MCP principal: /mcp refuses it like any key it does not know."""

import httpx2
import pytest

from mcpbridge.models import McpSession
from tenants.platform_capabilities import ALL_PLATFORM_CAPABILITIES
from tenants.services import service_account_create, service_key_issue
from tests.factories import ACTOR

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_http_mcp_refuses_a_valid_service_key(mcp_db, http_server_factory):
    account = service_account_create(name="provisioner", actor=ACTOR)
    _, raw = service_key_issue(account=account, name="pipeline", capabilities=ALL_PLATFORM_CAPABILITIES, actor=ACTOR)
    server = http_server_factory()
    initialize = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}},
    }
    response = httpx2.post(
        server.url + "/mcp",
        json=initialize,
        headers={
            "Authorization": f"Bearer {raw}",
            "Accept": "application/json, text/event-stream",
            "Content-Type": "application/json",
        },
    )
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["www-authenticate"]
    assert not McpSession.objects.exists()
