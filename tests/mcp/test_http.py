"""The SDK client against `manage.py runmcp --transport http` on a loopback port."""

import signal
import threading
import time

import anyio
import httpx2
import pytest
from mcp.shared.exceptions import MCPError

from mcpbridge.models import McpSession
from mcpbridge.services.sessions import mcp_session_revoke
from tenants.models import Role
from tenants.services import api_key_revoke, role_update, tenant_limit_set, tenant_suspend
from tests.factories import ACTOR, add_to_org, make_org
from tests.mcp.conftest import TEST_REDIS_URL, http_client
from tests.mcp.helpers import ROLE_TOOLS, Notifications, expect_error, in_thread, member_key, tool_names

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("mode", ["legacy", "auto"])
def test_roles_see_their_tools_in_both_protocol_eras(mcp_db, http_server_factory, mode):
    server = http_server_factory()
    keys = {role: member_key(role)[2] for role in ("viewer", "user", "admin")}

    async def main():
        for role, raw in keys.items():
            async with http_client(server.url, raw, mode=mode) as client:
                expected = "2026-07-28" if mode == "auto" else "2025-11-25"
                assert client.protocol_version == expected
                assert await tool_names(client) == ROLE_TOOLS[role]
                assert (await client.call_tool("whoami", {})).structured_content["role"] == role

    anyio.run(main)


def test_unauthenticated_requests_get_401_with_protected_resource_metadata(mcp_db, http_server_factory):
    server = http_server_factory()
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
    headers = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
    for auth in ({}, {"Authorization": "Bearer cpk_00000000_" + "x" * 43}):
        response = httpx2.post(server.url + "/mcp", json=body, headers={**headers, **auth})
        assert response.status_code == 401
        assert "/.well-known/oauth-protected-resource/mcp" in response.headers["www-authenticate"]
    metadata = httpx2.get(server.url + "/.well-known/oauth-protected-resource/mcp").json()
    assert metadata["resource"] == server.url + "/mcp"


def test_dns_rebinding_protection_refuses_foreign_hosts(mcp_db, http_server_factory):
    server = http_server_factory()
    _, _, raw = member_key("user")
    response = httpx2.post(
        server.url + "/mcp",
        json={"jsonrpc": "2.0", "id": 1, "method": "ping"},
        headers={
            "Authorization": f"Bearer {raw}",
            "Host": "evil.example.com",
            "Accept": "application/json, text/event-stream",
            "Content-Type": "application/json",
        },
    )
    assert response.status_code == 421


def test_two_tenants_and_contexts_are_isolated_over_http(mcp_db, http_server_factory):
    server = http_server_factory()
    membership_a, _, raw_a = member_key("admin")
    _, _, raw_b = member_key("admin")
    add_to_org(make_org(membership_a.tenant, slug="ops"), membership_a, "admin")

    async def main():
        async with http_client(server.url, raw_a) as a, http_client(server.url, raw_b, mode="auto") as b:
            await a.call_tool("artifacts_put", {"name": "report.txt", "content": "A personal", "content_type": "text/plain"})
            await b.call_tool("artifacts_put", {"name": "report.txt", "content": "B personal", "content_type": "text/plain"})
            await a.call_tool("context_switch", {"org": "ops"})
            assert (await a.call_tool("artifacts_list", {})).structured_content["items"] == []
            await a.call_tool("secrets_put", {"name": "db-password", "value": "s3cret"})
            assert (await b.call_tool("secrets_get", {"name": "db-password"})).is_error
            got = (await b.call_tool("artifacts_get", {"name": "report.txt"})).structured_content
            assert "B personal" in str(got)

    anyio.run(main)


def test_revoked_key_and_suspended_tenant_are_refused_on_the_next_call(mcp_db, http_server_factory):
    server = http_server_factory()
    _, key, raw = member_key("user")
    suspended_member, _, raw_suspended = member_key("user")

    async def main():
        async with http_client(server.url, raw_suspended) as client:
            await client.call_tool("whoami", {})
            await in_thread(tenant_suspend, tenant=suspended_member.tenant, actor=ACTOR)
            error = await expect_error(client.call_tool("whoami", {}), -32002)
            assert error.data["reason"] == "tenant_suspended"
        with pytest.raises(BaseException) as info:
            async with http_client(server.url, raw) as client:
                await client.call_tool("whoami", {})
                await in_thread(api_key_revoke, api_key=key, actor=ACTOR)
                await client.call_tool("whoami", {})
        assert "error response" in repr(info.value)  # the SDK client's words for the HTTP 401

    anyio.run(main)
    response = httpx2.post(
        server.url + "/mcp",
        json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
        headers={"Authorization": f"Bearer {raw}", "Accept": "application/json, text/event-stream"},
    )
    assert response.status_code == 401


def test_role_edit_sends_list_changed_over_http(mcp_db, http_server_factory):
    server = http_server_factory()
    role = Role.objects.create(slug="reader", name="Reader", capabilities=["kv.read"])
    _, _, raw = member_key("reader")
    notifications = Notifications()

    async def main():
        async with http_client(server.url, raw, message_handler=notifications) as client:
            assert "kv_set" not in await tool_names(client)
            await anyio.sleep(0.5)  # the client opens its event stream after the handshake
            await in_thread(role_update, role=role, capabilities=["kv.read", "kv.write"], actor=ACTOR)
            with anyio.fail_after(2):
                await notifications.arrived.wait()
            assert "kv_set" in await tool_names(client)

    anyio.run(main)


def test_session_recorded_revoked_by_admin_and_limited_per_tenant(mcp_db, http_server_factory):
    server = http_server_factory()
    membership, key, raw = member_key("user")
    _, _, other_raw = member_key("user", tenant=membership.tenant)
    tenant_limit_set(tenant=membership.tenant, limit="max_mcp_sessions", value=1, actor=ACTOR)

    async def main():
        async with http_client(server.url, raw) as client:
            await client.call_tool("whoami", {})
            # Another key of the tenant is refused: a key makes room only among its own sessions.
            with pytest.raises(BaseException) as info:
                async with http_client(server.url, other_raw):
                    pass
            assert "sessions" in repr(info.value)
            session = await in_thread(McpSession.objects.get, api_key_id=key.pk, ended_at__isnull=True)
            assert session.transport == "http" and session.transport_session_id
            await in_thread(mcp_session_revoke, session=session, actor=ACTOR)
            revoked_at = time.monotonic()
            with pytest.raises(BaseException):
                with anyio.fail_after(5):
                    while True:
                        await client.call_tool("whoami", {})
                        await anyio.sleep(0.1)
            assert time.monotonic() - revoked_at < 2

    anyio.run(main)
    session = McpSession.objects.get(api_key_id=key.pk)
    assert session.end_reason == "revoked" and session.request_count >= 2


def test_rate_limit_is_shared_by_two_server_processes_through_redis(mcp_db, http_server_factory):
    budget = 12
    servers = [http_server_factory(REDIS_URL=TEST_REDIS_URL) for _ in range(2)]
    membership, _, raw = member_key("user")
    tenant_limit_set(tenant=membership.tenant, limit="requests_per_minute", value=budget, actor=ACTOR)
    admitted, limited = [], []

    async def main():
        async with http_client(servers[0].url, raw) as one, http_client(servers[1].url, raw) as two:
            for i in range(2 * budget):
                try:
                    await (one if i % 2 else two).call_tool("whoami", {})
                    admitted.append(i)
                except MCPError as exc:
                    assert exc.code == -32001 and exc.data["retry_after_ms"] > 0
                    limited.append(i)

    anyio.run(main)
    assert len(admitted) == budget and len(limited) == budget


def test_sigterm_drains_the_call_in_flight_then_exits(mcp_db, http_server_factory):
    server = http_server_factory()
    _, _, raw = member_key("user")
    headers = {"Authorization": f"Bearer {raw}", "Accept": "application/json, text/event-stream"}
    url = server.url + "/mcp"
    opened = httpx2.post(url, headers=headers, json={"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "raw", "version": "1"}}})
    headers["Mcp-Session-Id"] = opened.headers["mcp-session-id"]
    headers["Mcp-Protocol-Version"] = "2025-11-25"
    httpx2.post(url, headers=headers, json={"jsonrpc": "2.0", "method": "notifications/initialized"})
    answer = {}

    def call():
        body = {"jsonrpc": "2.0", "id": 2, "method": "tools/call",
                "params": {"name": "diagnostics_sleep", "arguments": {"seconds": 1.5}}}
        answer["body"] = httpx2.post(url, headers=headers, json=body, timeout=20).text

    caller = threading.Thread(target=call)
    caller.start()
    time.sleep(0.5)  # the call is running
    stopped_at = time.monotonic()
    server.process.send_signal(signal.SIGTERM)
    caller.join(20)
    assert '"slept":1.5' in answer["body"].replace(" ", "")
    server.process.wait(timeout=15)
    assert time.monotonic() - stopped_at < 10
    with pytest.raises(httpx2.TransportError):  # no longer accepting
        httpx2.post(url, headers=headers, json={"jsonrpc": "2.0", "id": 3, "method": "ping"}, timeout=2)


def test_role_edit_reaches_stateless_listeners_and_only_those_whose_tools_changed(mcp_db, http_server_factory):
    """2026-07-28 clients (mode "auto") have no session stream: tools/list_changed comes on subscriptions/listen,
    and only to listeners whose visible tools changed (each listen stream has its own bus)."""
    server = http_server_factory()
    role = Role.objects.create(slug="reader", name="Reader", capabilities=["kv.read"])
    membership, _, raw = member_key("reader")
    _, _, bystander_raw = member_key("viewer")  # another tenant, another role: its tools do not change
    _, _, neighbour_raw = member_key("user", tenant=membership.tenant)  # same tenant, untouched role
    told, bystander, neighbour = Notifications(), Notifications(), Notifications()

    async def main():
        async with (
            http_client(server.url, raw, mode="auto", message_handler=told) as client,
            http_client(server.url, bystander_raw, mode="auto", message_handler=bystander) as other,
            http_client(server.url, neighbour_raw, mode="auto", message_handler=neighbour) as third,
        ):
            assert client.protocol_version == "2026-07-28"
            assert "kv_set" not in await tool_names(client)
            assert await tool_names(other) == ROLE_TOOLS["viewer"]
            assert await tool_names(third) == ROLE_TOOLS["user"]
            async with (
                client.listen(tools_list_changed=True) as sub,
                other.listen(tools_list_changed=True),
                third.listen(tools_list_changed=True),
            ):
                assert sub.honored.tools_list_changed
                await in_thread(role_update, role=role, capabilities=["kv.read", "kv.write"], actor=ACTOR)
                with anyio.fail_after(2):
                    await told.arrived.wait()
                # Several ticks of the server's watch loop (0.2 s each) pass: nobody else is told.
                await anyio.sleep(1)
            assert "kv_set" in await tool_names(client)
            assert told.count("notifications/tools/list_changed") == 1
            assert bystander.count("notifications/tools/list_changed") == 0
            assert neighbour.count("notifications/tools/list_changed") == 0
            assert (await other.call_tool("whoami", {})).structured_content["role"] == "viewer"

    anyio.run(main)
