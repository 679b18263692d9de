"""An OAuth token is governed by the live policy exactly like a key: changes reach the next call and open
sessions get tools/list_changed within 2 s; audit names the client and the person."""

import anyio
import pytest

from mcpbridge.models import McpSession
from oauthserver.models import OAuthGrant
from tenants.models import AuditEvent, Membership, Role
from tenants.services import membership_change_role, membership_remove, tenant_suspend
from tests.factories import ACTOR, make_tenant
from tests.mcp.conftest import http_client
from tests.mcp.helpers import Notifications, expect_error, in_thread, tool_names
from tests.oauth.conftest import mcp_status, obtain_tokens, person_in

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_role_change_suspension_and_removal_reach_an_oauth_session(control_plane):
    tenant = make_tenant()
    user = person_in((tenant, "user"))
    server = control_plane()
    client, tokens = obtain_tokens(server.url, user.username)
    membership = Membership.objects.get(user=user)
    notifications = Notifications()

    async def main():
        async with http_client(server.url, tokens["access_token"], message_handler=notifications) as session:
            assert {"kv_get", "kv_set", "kv_list", "kv_delete"} <= await tool_names(session)
            # The grant holds what was asked for that the role grants: kv only, not artifacts.
            assert "artifacts_put" not in await tool_names(session)
            await session.call_tool("kv_set", {"key": "k", "value": "v"})
            await anyio.sleep(0.5)  # the client opens its event stream after the handshake
            await in_thread(
                membership_change_role, membership=membership, role=await in_thread(Role.objects.get, slug="viewer"),
                actor=ACTOR,
            )
            with anyio.fail_after(2):
                await notifications.arrived.wait()
            assert "kv_set" not in await tool_names(session)
            await expect_error(session.call_tool("kv_set", {"key": "k", "value": "w"}), -32602)
            await in_thread(tenant_suspend, tenant=tenant, actor=ACTOR)
            await expect_error(session.call_tool("kv_get", {"key": "k"}), -32002)

    anyio.run(main)
    session = McpSession.objects.get()
    assert session.api_key_id == OAuthGrant.objects.get().api_key_id
    oauth_events = AuditEvent.objects.filter(actor=f"oauth:{client['client_id']}", action="tool_call")
    assert oauth_events.filter(actor_user=user, target="tool:kv_set", outcome="ok").exists()

    membership_remove(membership=Membership.objects.get(user=user), actor=ACTOR)
    assert mcp_status(server.url, tokens["access_token"]) == 401
