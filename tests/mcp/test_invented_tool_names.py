"""A tenant calling tools with invented names of any length: each refused call is audited, but what it stores does
not grow with the name it made up (the audit table is shared by every tenant)."""

import time

import anyio
import pytest

from tenants.models import AuditEvent
from tests.mcp.conftest import http_client
from tests.mcp.helpers import expect_error, member_key

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_a_huge_invented_tool_name_is_audited_bounded(mcp_db, http_server_factory):
    server = http_server_factory()
    membership, _, raw = member_key("user")
    name = "=HYPERLINK" + "x" * 200_000

    async def main():
        async with http_client(server.url, raw) as client:
            error = await expect_error(client.call_tool(name, {}), -32602)
            return error

    error = anyio.run(main)
    assert len(str(error)) < 1000, "the refusal does not echo the whole name back either"
    deadline = time.monotonic() + 10
    while not (events := list(AuditEvent.objects.filter(tenant_id=membership.tenant_id, target__startswith="tool:"))):
        assert time.monotonic() < deadline, "the refused call was never audited"
        time.sleep(0.2)
    [event] = events
    assert len(str(event.details)) < 1000
    assert event.details["tool"].startswith("=HYPERLINK")
