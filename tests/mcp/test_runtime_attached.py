"""Every request after a connection's first finds its session without awaiting (Runtime.attached); a session that
has ended since is never found that way: the request goes through attach, which refuses it."""

from contextlib import AsyncExitStack
from types import SimpleNamespace

import anyio
import pytest

from mcpbridge.models import McpSession
from mcpbridge.server.errors import Refusal
from mcpbridge.server.runtime import Runtime
from tests.mcp.helpers import member_key

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("mcp_db")]

_VERSION = "2025-11-25"


def _request(connection, method: str, params=None):
    return SimpleNamespace(
        session=SimpleNamespace(_connection=connection),
        method=method,
        protocol_version=_VERSION,
        params=params,
        request_id=1,
    )


async def _notify():
    pass


def test_a_request_on_an_open_session_finds_it_and_one_on_an_ended_session_is_refused():
    _, _, raw = member_key("user")
    runtime = Runtime(transport="http", credential=lambda ctx: raw)
    connection = SimpleNamespace(
        state={}, session_id="transport-1", exit_stack=AsyncExitStack(), send_tool_list_changed=_notify
    )
    opening = _request(connection, "initialize", {"protocolVersion": _VERSION, "clientInfo": {"name": "t"}})
    assert runtime.attached(opening) is None  # no session on the connection yet: attach opens it
    live = anyio.run(runtime.attach, opening)

    call = _request(connection, "tools/call", {"name": "whoami"})
    requests_before = live.unflushed_requests
    assert runtime.attached(call) is live
    assert live.unflushed_requests == requests_before + 1  # counted like any request attach serves

    runtime.sessions.end(live, McpSession.EndReason.REVOKED)
    assert runtime.attached(call) is None
    with pytest.raises(Refusal) as refused:
        anyio.run(runtime.attach, call)
    assert refused.value.data["reason"] == "session_ended"
