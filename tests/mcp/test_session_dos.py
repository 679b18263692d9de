"""Refused `initialize` requests leave nothing behind, and new sessions are rate-limited per key and address:
one tenant's flood of refused handshakes cannot fill the server's process-wide session table (the SDK's
10,000 sessions) and lock every other tenant out."""

import http.client
import json
import threading
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

import anyio
import httpx2
import pytest

from mcpbridge.models import McpSession
from tenants.models import AuditEvent
from tenants.services import tenant_limit_set
from tests.factories import ACTOR
from tests.mcp.conftest import http_client
from tests.mcp.helpers import member_key

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

FLOOD = 10_000
SENDERS = 8
HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "flood", "version": "1"}},
}
TOOLS_LIST = {"jsonrpc": "2.0", "id": 2, "method": "tools/list", "params": {}}


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def refused_initializes(url: str, raw: str, count: int) -> list[str]:
    """Send `count` initializes that the server refuses, from SENDERS keep-alive connections (http.client: the
    client must cost less than the server it floods); returns the session ids handed out for them."""
    session_ids: list[str] = []
    answers: Counter = Counter()
    lock = threading.Lock()
    remaining = iter(range(count))
    parsed = urlsplit(url)
    body = json.dumps(INITIALIZE)
    headers = {**HEADERS, "Authorization": f"Bearer {raw}"}

    def sender():
        connection = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=30)
        try:
            for _ in remaining:
                connection.request("POST", "/mcp", body=body, headers=headers)
                response = connection.getresponse()
                text = response.read().decode()
                with lock:
                    answers[f"{response.status}:{'-32002' if '-32002' in text else 'other'}"] += 1
                    if response.getheader("mcp-session-id"):
                        session_ids.append(response.getheader("mcp-session-id"))
        finally:
            connection.close()

    threads = [threading.Thread(target=sender) for _ in range(SENDERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Every one was refused as a tenant error (the session cap), none with a server failure.
    assert dict(answers) == {"200:-32002": count}, answers
    return session_ids


def test_ten_thousand_refused_initializes_leave_nothing_and_other_tenants_connect(mcp_db, http_server_factory):
    # Rate limits out of the way, so every attempt reaches the session cap: the case of an attacker with many
    # keys and addresses.
    server = http_server_factory(
        MCP_INITIALIZE_RATE_PER_MINUTE_PER_KEY=10 * FLOOD, MCP_INITIALIZE_RATE_PER_MINUTE_PER_ADDRESS=10 * FLOOD
    )
    tenant_b, _, raw_b = member_key("viewer")
    tenant_limit_set(tenant=tenant_b.tenant, limit="max_mcp_sessions", value=0, actor=ACTOR)
    tenant_a, _, raw_a = member_key("user")
    pid = server.process.pid

    async def main():
        # Warm-up: imports, caches, connection pools, worker threads.
        await anyio.to_thread.run_sync(refused_initializes, server.url, raw_b, 300)
        async with http_client(server.url, raw_a) as client:
            await client.call_tool("whoami", {})
        before = rss_kib(pid)
        session_ids = await anyio.to_thread.run_sync(refused_initializes, server.url, raw_b, FLOOD)
        after = rss_kib(pid)
        # Refused before the SDK registered anything: no session id was ever handed out.
        assert session_ids == []

        async with http_client(server.url, raw_a) as client:
            assert (await client.call_tool("whoami", {})).structured_content["tenant"]
        return before, after

    before, after = anyio.run(main)
    assert after <= before * 1.10, f"RSS grew from {before} KiB to {after} KiB"
    server.stop()  # writes the counts of refusals still being tallied
    assert not McpSession.objects.filter(tenant=tenant_b.tenant).exists()
    assert McpSession.objects.filter(tenant=tenant_a.tenant).count() == 2
    # Every refusal is on the record, as refused MCP sessions of tenant B, in a handful of events with counts.
    refused = AuditEvent.objects.filter(tenant=tenant_b.tenant, action="session", outcome="denied")
    assert sum(event.details["count"] for event in refused) == FLOOD + 300
    assert refused.count() <= 10
    assert {event.details["reason"] for event in refused} == {"max_sessions"}
    assert "Traceback" not in "".join(server.log)


def test_initializes_refused_under_the_tenant_lock_leave_no_sdk_session(mcp_db, http_server_factory):
    """Initializes racing for the last slot all pass the unlocked pre-check; the losers are refused when the
    session opens under the tenant's lock, after the SDK registered a session for them: that one is dropped."""
    server = http_server_factory()
    racers = 12
    membership, _, _ = member_key("user")
    tenant_limit_set(tenant=membership.tenant, limit="max_mcp_sessions", value=1, actor=ACTOR)
    raws = [member_key("user", tenant=membership.tenant)[2] for _ in range(racers)]
    answers: list[tuple[str, str | None, str]] = []

    async def main():
        async def attempt(http, raw):
            response = await http.post(server.url + "/mcp", json=INITIALIZE, headers={"Authorization": f"Bearer {raw}"})
            answers.append((raw, response.headers.get("mcp-session-id"), response.text))

        async with httpx2.AsyncClient(headers=HEADERS, timeout=30) as http:
            async with anyio.create_task_group() as tg:
                for raw in raws:
                    tg.start_soon(attempt, http, raw)
            refused_late = [(raw, sid) for raw, sid, text in answers if sid and "-32002" in text]
            for raw, session_id in refused_late:
                response = await http.post(
                    server.url + "/mcp",
                    json=TOOLS_LIST,
                    headers={"Authorization": f"Bearer {raw}", "mcp-session-id": session_id},
                )
                assert response.status_code == 404, response.text
        return refused_late

    refused_late = anyio.run(main)
    assert sum(1 for _, _, text in answers if '"result"' in text) == 1
    assert refused_late, "no initialize raced past the pre-check; the lock's refusal was not exercised"
    assert McpSession.objects.filter(tenant=membership.tenant).count() == 1


def test_new_sessions_are_rate_limited_per_key_and_per_address(mcp_db, http_server_factory):
    server = http_server_factory(MCP_INITIALIZE_RATE_PER_MINUTE_PER_KEY=3, MCP_INITIALIZE_RATE_PER_MINUTE_PER_ADDRESS=5)
    membership, _, first = member_key("user")
    _, _, second = member_key("user", tenant=membership.tenant)
    _, _, third = member_key("viewer")

    def initialize(raw):
        return httpx2.post(
            server.url + "/mcp", json=INITIALIZE, headers={**HEADERS, "Authorization": f"Bearer {raw}"}, timeout=30
        )

    statuses = [initialize(first).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    limited = initialize(first)
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1
    error = limited.json()["error"]
    assert error["code"] == -32001 and error["data"]["limit"] == "mcp_initialize_per_key"
    assert error["data"]["retry_after_ms"] > 0
    assert "mcp-session-id" not in limited.headers
    # Refusals by the key's window took nothing from the address's: two more keys from the same address get
    # two more sessions, then the address (5 per minute) is at its limit for every key.
    assert initialize(second).status_code == 200
    assert initialize(second).status_code == 200
    blocked = initialize(third)
    assert blocked.status_code == 429 and blocked.json()["error"]["data"]["limit"] == "mcp_initialize_per_address"
    assert McpSession.objects.filter(tenant=membership.tenant).count() == 5
    # Refusals by rate are audited as refused MCP sessions of the key's tenant (once per key, limit and minute).
    server.stop()
    limited_events = AuditEvent.objects.filter(tenant=membership.tenant, action="session", outcome="rate_limited")
    assert {event.details["limit"] for event in limited_events} == {"mcp_initialize_per_key"}
    assert sum(event.details["count"] for event in limited_events) == 2
    third_events = AuditEvent.objects.filter(action="session", outcome="rate_limited").exclude(
        tenant=membership.tenant
    )
    assert [event.details["limit"] for event in third_events] == ["mcp_initialize_per_address"]
