"""Sessions of clients that go away without DELETE (the TypeScript SDK, the Inspector, conformance runners do)
do not lock a tenant out: a key has its own cap below the tenant's, at the cap its least-recently-used idle
session makes room, and sessions whose transport is gone are reclaimed after a short grace."""

from contextlib import asynccontextmanager

import anyio
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError

from mcpbridge.models import McpSession
from tenants.models import AuditEvent
from tenants.services import tenant_limit_set
from tests.factories import ACTOR
from tests.mcp.conftest import http_client
from tests.mcp.helpers import in_thread, member_key

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "plain", "version": "1"}},
}


@asynccontextmanager
async def vanishing_sdk_client(base_url: str, raw_key: str):
    """The SDK's client over Streamable HTTP that drops its connections on exit without sending DELETE."""
    async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {raw_key}"}, timeout=30) as http:
        transport = streamable_http_client(f"{base_url}/mcp", http_client=http, terminate_on_close=False)
        async with Client(transport, mode="legacy", cache=None, read_timeout_seconds=30) as client:
            yield client


def plain_session(base_url: str, raw_key: str) -> str:
    """A plain HTTP client: initialize, initialized, one tool call, then it simply stops (no GET, no DELETE)."""
    headers = {**HEADERS, "Authorization": f"Bearer {raw_key}"}
    with httpx2.Client(base_url=base_url, headers=headers, timeout=30) as http:
        opened = http.post("/mcp", json=INITIALIZE)
        assert opened.status_code == 200 and '"result"' in opened.text, opened.text
        session = {"mcp-session-id": opened.headers["mcp-session-id"], "mcp-protocol-version": "2025-11-25"}
        http.post("/mcp", json={"jsonrpc": "2.0", "method": "notifications/initialized"}, headers=session)
        call = {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "whoami", "arguments": {}}}
        assert '"result"' in http.post("/mcp", json=call, headers=session).text
        return session["mcp-session-id"]


def session_status(base_url: str, raw_key: str, session_id: str) -> int:
    headers = {**HEADERS, "Authorization": f"Bearer {raw_key}", "mcp-session-id": session_id}
    body = {"jsonrpc": "2.0", "id": 9, "method": "tools/list", "params": {}}
    return httpx2.post(f"{base_url}/mcp", json=body, headers=headers, timeout=30).status_code


def mcp_error(exc: BaseException) -> MCPError:
    """The MCPError inside what the client raised (task groups wrap it in exception groups)."""
    while isinstance(exc, BaseExceptionGroup):
        exc = exc.exceptions[0]
    assert isinstance(exc, MCPError), repr(exc)
    return exc


def open_rows(key) -> list[McpSession]:
    return list(McpSession.objects.filter(api_key=key, ended_at__isnull=True).order_by("started_at"))


def test_at_the_key_cap_the_least_recently_used_idle_session_makes_room(mcp_db, http_server_factory):
    server = http_server_factory()
    membership, key, raw = member_key("viewer")
    _, other_key, other_raw = member_key("viewer", tenant=membership.tenant)
    tenant_limit_set(tenant=membership.tenant, limit="max_mcp_sessions_per_key", value=2, actor=ACTOR)
    tenant_limit_set(tenant=membership.tenant, limit="max_mcp_sessions", value=4, actor=ACTOR)

    async def main():
        async with vanishing_sdk_client(server.url, raw) as client:
            await client.call_tool("whoami", {})
        oldest = (await in_thread(open_rows, key))[0]
        await anyio.sleep(0.3)
        newer_id = await in_thread(plain_session, server.url, raw)
        assert len(await in_thread(open_rows, key)) == 2  # both clients left without closing

        # A third session of the key evicts the least recently used one, not the newer.
        async with http_client(server.url, raw) as client:
            await client.call_tool("whoami", {})
            rows = await in_thread(open_rows, key)
            assert oldest.pk not in {row.pk for row in rows}
            assert newer_id in {row.transport_session_id for row in rows}
            assert await in_thread(session_status, server.url, raw, oldest.transport_session_id) == 404
            # Another key of the tenant is untouched by this key's cap.
            async with http_client(server.url, other_raw) as other:
                assert (await other.call_tool("whoami", {})).structured_content["role"] == "viewer"
        return oldest

    oldest = anyio.run(main)
    evicted = McpSession.objects.get(pk=oldest.pk)
    assert evicted.end_reason == "idle" and evicted.ended_at is not None
    ended = AuditEvent.objects.get(
        action="session", target=f"mcp_session:{oldest.pk}", details__operation="mcp_session.end"
    )
    assert ended.details["why"].startswith("evicted")
    assert McpSession.objects.filter(api_key=other_key).count() == 1


def test_at_the_key_cap_a_session_with_a_call_running_is_not_evicted(mcp_db, http_server_factory):
    server = http_server_factory()
    membership, key, raw = member_key("user")
    tenant_limit_set(tenant=membership.tenant, limit="max_mcp_sessions_per_key", value=1, actor=ACTOR)

    async def main():
        async with http_client(server.url, raw) as busy:
            async with anyio.create_task_group() as tg:
                tg.start_soon(busy.call_tool, "diagnostics_sleep", {"seconds": 3})
                await anyio.sleep(1)
                with pytest.raises(BaseException) as info:
                    async with http_client(server.url, raw):
                        pass
                refusal = mcp_error(info.value)
                assert refusal.code == -32002
                assert "this api key" in refusal.message.lower()
                assert refusal.data["limit"] == "max_mcp_sessions_per_key"

    anyio.run(main)
    assert McpSession.objects.filter(api_key=key).count() == 1


def test_sessions_whose_clients_vanished_are_reclaimed_after_the_grace(mcp_db, http_server_factory):
    server = http_server_factory(MCP_SESSION_RECLAIM_GRACE_SECONDS=2)
    membership, key, raw = member_key("user")
    _, connected_key, connected_raw = member_key("user", tenant=membership.tenant)

    async def main():
        async with http_client(server.url, connected_raw) as connected:
            await connected.call_tool("whoami", {})
            async with vanishing_sdk_client(server.url, raw) as client:
                await client.call_tool("whoami", {})
            plain_id = await in_thread(plain_session, server.url, raw)
            assert len(await in_thread(open_rows, key)) == 2
            with anyio.fail_after(15):
                while await in_thread(open_rows, key):
                    await anyio.sleep(0.2)
            assert await in_thread(session_status, server.url, raw, plain_id) == 404
            # A client still connected (its event stream open), idle for longer than the grace, keeps its session.
            assert len(await in_thread(open_rows, connected_key)) == 1
            await connected.call_tool("whoami", {})

    anyio.run(main)
    for row in McpSession.objects.filter(api_key=key):
        assert row.end_reason == "idle"
        ended = AuditEvent.objects.get(target=f"mcp_session:{row.pk}", details__operation="mcp_session.end")
        assert ended.details["why"].startswith("reclaimed")
