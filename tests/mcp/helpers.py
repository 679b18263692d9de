import time

import anyio
import pytest
from anyio import to_thread
from mcp.shared.exceptions import MCPError

from tests.factories import make_key, make_member, make_tenant

ROLE_TOOLS = {
    "viewer": {"whoami", "context_switch", "quota_status", "kv_get", "kv_list", "artifacts_get", "artifacts_list"},
    "user": {
        "whoami", "context_switch", "quota_status", "kv_get", "kv_set", "kv_delete", "kv_list",
        "artifacts_get", "artifacts_put", "artifacts_list", "events_send", "secrets_get",
    },
    "admin": {
        "whoami", "context_switch", "quota_status", "kv_get", "kv_set", "kv_delete", "kv_list",
        "artifacts_get", "artifacts_put", "artifacts_list", "artifacts_delete", "events_send",
        "secrets_get", "secrets_put",
    },
}
DIAGNOSTIC = {"diagnostics_sleep", "test_reconnection"}


def member_key(role: str = "user", tenant=None):
    membership = make_member(tenant or make_tenant(), role)
    key, raw = make_key(membership)
    return membership, key, raw


async def tool_names(client) -> set[str]:
    return {tool.name for tool in (await client.list_tools()).tools} - DIAGNOSTIC


async def expect_error(awaitable, code: int) -> MCPError:
    with pytest.raises(MCPError) as info:
        await awaitable
    assert info.value.code == code, info.value
    assert "Traceback" not in info.value.message
    return info.value


async def in_thread(function, *args, **kwargs):
    """Django ORM calls from the async test body (the ORM refuses to run on the event loop thread)."""
    return await to_thread.run_sync(lambda: function(*args, **kwargs))


class Notifications:
    """A client message handler that records server notifications by method."""

    def __init__(self):
        self.seen: list[tuple[str, float]] = []
        self.arrived = anyio.Event()

    async def __call__(self, message) -> None:
        method = getattr(message, "method", None) or getattr(getattr(message, "root", None), "method", None)
        if method:
            self.seen.append((method, time.monotonic()))
            if method == "notifications/tools/list_changed":
                self.arrived.set()

    def count(self, method: str) -> int:
        return sum(1 for seen, _ in self.seen if seen == method)
