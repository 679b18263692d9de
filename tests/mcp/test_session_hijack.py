"""Another tenant's MCP session id in hand (a leaked log line, a shared screen): with their own key, Mallory cannot
call in Alice's session, replay its stream with Last-Event-ID, or end it; a forged id naming another replica is
just an unknown session."""

import json

import httpx2
import pytest

from tests.mcp.conftest import TEST_REDIS_URL
from tests.mcp.helpers import member_key
from tests.mcp.wire import WireSession, sse_events

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_a_session_id_is_useless_with_another_tenants_key(mcp_db, http_server_factory):
    server = http_server_factory(REDIS_URL=TEST_REDIS_URL, MCP_REPLICA_ID="r1")
    _, _, raw_alice = member_key("user")
    _, _, raw_mallory = member_key("user")
    http = httpx2.Client(timeout=10)
    alice = WireSession(http, server.url + "/mcp", raw_alice)
    alice.initialize()
    assert alice.session_id.startswith("r1.")
    response = alice.open_call("kv_set", {"key": "diary", "value": "private"})
    events = list(sse_events(response.iter_lines()))
    response.close()
    assert json.loads(events[-1].data)["result"]["isError"] is False

    mallory = WireSession(http, server.url + "/mcp", raw_mallory, session_id=alice.session_id)
    url = server.url + "/mcp"
    call = mallory.http.post(
        url,
        json={"jsonrpc": "2.0", "id": 9, "method": "tools/call", "params": {"name": "kv_get", "arguments": {"key": "diary"}}},
        headers=mallory.headers(),
    )
    assert call.status_code in (403, 404), call.text
    assert "private" not in call.text
    with http.stream("GET", url, headers=mallory.headers(**{"Last-Event-ID": events[0].id})) as replay:
        assert replay.status_code in (403, 404)
        assert "private" not in replay.read().decode()
    assert http.delete(url, headers=mallory.headers()).status_code in (403, 404)

    # Alice's session is untouched, and her data is still hers.
    assert alice.call("kv_get", {"key": "diary"})["result"]["structuredContent"]["value"] == "private"

    forged = WireSession(http, server.url + "/mcp", raw_mallory, session_id="r2." + alice.session_id.split(".", 1)[1])
    assert http.post(
        url, json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"}, headers=forged.headers()
    ).status_code == 404
    http.close()
