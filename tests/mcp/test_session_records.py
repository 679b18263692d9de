"""What a session leaves on the record: its request count (written when it ends, however soon), the audit
events of its calls dated no later than its end, and MCP-session audit events for its opening and its end."""

import time

import anyio
import pytest

from mcpbridge.models import McpSession
from tenants.models import AuditEvent
from tests.mcp.conftest import http_client, stdio_client
from tests.mcp.helpers import member_key

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

CALLS = 4


def wait_until_ended(key):
    # The server records the end once the session's task winds down, right after answering the DELETE.
    deadline = time.monotonic() + 5
    while not McpSession.objects.filter(api_key=key, ended_at__isnull=False).exists():
        assert time.monotonic() < deadline, "the session was not ended"
        time.sleep(0.1)


def assert_recorded(key):
    session = McpSession.objects.get(api_key=key)
    assert session.ended_at is not None and session.end_reason in {"client_closed", "server_shutdown"}
    # initialize and the calls, at least: a session that ends before the background loop wrote them still counts.
    assert session.request_count >= CALLS + 1, session.request_count
    calls = AuditEvent.objects.filter(action="tool_call", details__session=str(session.pk))
    assert calls.count() == CALLS
    assert all(event.created_at <= session.ended_at for event in calls), [
        (event.created_at, session.ended_at) for event in calls
    ]
    events = AuditEvent.objects.filter(action="session", target=f"mcp_session:{session.pk}")
    opened = events.get(details__operation="mcp_session.open")
    ended = events.get(details__operation="mcp_session.end")
    assert opened.tenant_id == session.tenant_id and opened.outcome == "ok"
    assert ended.details["reason"] == session.end_reason
    assert opened.created_at <= ended.created_at


def test_http_session_with_a_few_calls_records_them_all(mcp_db, http_server_factory):
    server = http_server_factory()
    _, key, raw = member_key("user")

    async def main():
        async with http_client(server.url, raw) as client:
            for _ in range(CALLS):
                await client.call_tool("whoami", {})

    anyio.run(main)
    wait_until_ended(key)
    assert_recorded(key)


def test_stdio_session_with_a_few_calls_records_them_all(mcp_db):
    _, key, raw = member_key("user")

    async def main():
        async with stdio_client(raw) as client:
            for _ in range(CALLS):
                await client.call_tool("whoami", {})

    anyio.run(main)
    assert_recorded(key)
