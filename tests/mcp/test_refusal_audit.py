"""Every refusal at the MCP doors leaves an audit row; floods of bad keys are counted, not appended."""

import secrets
import subprocess
import sys
import time

import anyio
import httpx2
import pytest

from tenants.models import AuditEvent
from tenants.services import api_key_revoke, tenant_suspend
from tests.factories import ACTOR
from tests.mcp.conftest import ROOT, http_client, server_env
from tests.mcp.helpers import expect_error, in_thread, member_key

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

_INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "probe", "version": "1"}},
}
_HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


def _refusals(**filters):
    return AuditEvent.objects.filter(action="auth_failure", **filters)


def _wait_for_refusals(expected_total: int, timeout: float = 20, **filters) -> list[AuditEvent]:
    """The HTTP server writes refusals from its buffer a moment later: wait until they add up."""
    deadline = time.monotonic() + timeout
    while True:
        rows = list(_refusals(**filters))
        if sum(row.count for row in rows) >= expected_total or time.monotonic() > deadline:
            return rows
        time.sleep(0.1)


def assert_one_row_per_minute(rows: list[AuditEvent], *, total: int) -> None:
    """A flood leaves one row per minute it spans (a run may cross a minute boundary), counting every refusal."""
    minutes = {row.bucket.split("|", 1)[0] for row in rows}
    assert len(rows) == len(minutes) <= 2, [(row.bucket, row.count) for row in rows]
    assert sum(row.count for row in rows) == total


def _unknown_key() -> str:
    return f"cpk_{secrets.token_hex(4)}_{secrets.token_urlsafe(32)}"


def _post(url: str, token: str | None) -> int:
    headers = dict(_HEADERS, **({"Authorization": f"Bearer {token}"} if token is not None else {}))
    return httpx2.post(f"{url}/mcp", json=_INITIALIZE, headers=headers, timeout=10).status_code


def test_each_refused_key_kind_over_http_is_audited_with_its_reason(mcp_db, http_server_factory):
    server = http_server_factory()
    membership, key, raw_revoked = member_key("user")
    api_key_revoke(api_key=key, actor=ACTOR)

    assert _post(server.url, "not-a-key") == 401, "".join(server.log)
    assert _post(server.url, _unknown_key()) == 401
    assert _post(server.url, raw_revoked) == 401
    assert _post(server.url, None) == 401

    rows = _wait_for_refusals(4, details__door="mcp_http")
    by_reason = {row.details["reason"]: row for row in rows}
    assert set(by_reason) == {"malformed_key", "unknown_key", "revoked_key", "missing_credentials"}
    assert all(row.outcome == "denied" and row.count == 1 for row in rows)
    assert by_reason["malformed_key"].actor == "address:127.0.0.1"
    assert by_reason["unknown_key"].actor == "address:127.0.0.1"
    # A key that exists is named by its prefix and belongs to its tenant's log.
    assert by_reason["revoked_key"].actor == f"key:{key.prefix}"
    assert by_reason["revoked_key"].tenant_id == membership.tenant_id
    assert "not-a-key" not in str([(row.target, row.details) for row in rows])


def test_a_flood_of_bad_keys_from_one_address_is_one_row_with_its_count(mcp_db, http_server_factory):
    server = http_server_factory()

    def flood():
        with httpx2.Client(headers=_HEADERS, timeout=10) as http:
            for _ in range(500):
                response = http.post(
                    f"{server.url}/mcp", json=_INITIALIZE, headers={"Authorization": f"Bearer {_unknown_key()}"}
                )
                assert response.status_code == 401

    flood()
    rows = _wait_for_refusals(500, details__door="mcp_http")
    assert_one_row_per_minute(rows, total=500)
    assert {row.details["reason"] for row in rows} == {"unknown_key"}


def test_a_suspended_tenant_refused_at_initialize_over_http_is_audited(mcp_db, http_server_factory):
    server = http_server_factory()
    membership, key, raw = member_key("user")
    tenant_suspend(tenant=membership.tenant, actor=ACTOR)

    async def main():
        with pytest.raises(Exception):
            async with http_client(server.url, raw):
                pass

    anyio.run(main)
    rows = _wait_for_refusals(1, details__door="mcp_http", details__reason="tenant_suspended")
    assert [(row.actor, row.tenant_id, row.target) for row in rows] == [
        (f"key:{key.prefix}", membership.tenant_id, "mcp:initialize")
    ]


def test_a_suspended_tenant_refused_mid_session_over_stdio_is_audited_per_minute(mcp_db):
    membership, key, raw = member_key("user")

    async def main():
        from tests.mcp.conftest import stdio_client

        async with stdio_client(raw) as client:
            await client.call_tool("whoami", {})
            await in_thread(tenant_suspend, tenant=membership.tenant, actor=ACTOR)
            for _ in range(3):
                await expect_error(client.call_tool("whoami", {}), -32002)
            await expect_error(client.list_tools(), -32002)

    anyio.run(main)
    rows = list(_refusals(details__door="mcp_stdio"))
    # Three tool calls and a tools/list: one row for the minute, whichever request came first named its target.
    assert_one_row_per_minute(rows, total=4)
    assert rows[-1].target == "tool:whoami"
    assert all(row.actor == f"key:{key.prefix}" and row.details["reason"] == "tenant_suspended" for row in rows)


@pytest.mark.parametrize("kind", ["revoked_key", "malformed_key", "missing_credentials"])
def test_a_stdio_server_refused_at_start_up_is_audited(mcp_db, kind):
    _, key, raw = member_key("user")
    if kind == "revoked_key":
        api_key_revoke(api_key=key, actor=ACTOR)
    raw = {"revoked_key": raw, "malformed_key": "cpk_nothex_short", "missing_credentials": ""}[kind]
    result = subprocess.run(
        [sys.executable, "manage.py", "runmcp"],
        cwd=ROOT,
        env=server_env(CONTROLPLANE_API_KEY=raw),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert result.stdout == ""
    rows = list(_refusals(details__door="mcp_stdio"))
    assert [(row.details["reason"], row.count) for row in rows] == [(kind, 1)]
    assert rows[0].actor == (f"key:{key.prefix}" if kind == "revoked_key" else "address:stdio")
