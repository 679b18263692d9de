"""Resumable SSE streams (event history in Redis) and replica-named session ids, seen on the wire."""

import json
import time

import anyio
import httpx2
import mcp_types as types
import pytest
import redis

from mcpbridge.transports.event_store import RedisEventHistory
from tests.mcp.conftest import TEST_REDIS_URL
from tests.mcp.helpers import member_key
from tests.mcp.wire import WireSession, sse_events

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def wire(server, raw) -> WireSession:
    return WireSession(http=httpx2.Client(timeout=30), url=server.url + "/mcp", raw_key=raw)


def test_a_dropped_call_stream_is_replayed_after_last_event_id(mcp_db, http_server_factory):
    server = http_server_factory(REDIS_URL=TEST_REDIS_URL, MCP_REPLICA_ID="r7", MCP_SSE_RETRY_MS=750)
    _, _, raw = member_key("user")
    session = wire(server, raw)
    session.initialize()
    assert session.session_id.startswith("r7.")

    response = session.open_call("diagnostics_sleep", {"seconds": 1})
    priming = next(sse_events(response.iter_lines()))
    response.close()  # the connection drops before the answer
    assert priming.id and priming.data == "" and priming.retry == 750

    replayed = [json.loads(event.data) for event in session.resume(priming.id) if event.data]
    assert replayed[-1]["result"]["structuredContent"] == {"slept": 1.0}
    # The session goes on as before.
    assert session.call("whoami", {})["result"]["structuredContent"]["role"] == "user"


def test_a_call_that_answers_on_reconnect_closes_its_stream_after_the_priming_event(mcp_db, http_server_factory):
    """SSE polling (spec 2025-11-25), as the conformance suite's test_reconnection tool sees it: the server ends the
    call's stream at once; the answer comes when the client reconnects with Last-Event-ID."""
    server = http_server_factory(REDIS_URL=TEST_REDIS_URL)
    _, _, raw = member_key("user")
    session = wire(server, raw)
    session.initialize()

    response = session.open_call("test_reconnection", {})
    events = list(sse_events(response.iter_lines()))  # the server ends the stream: this returns
    response.close()
    assert len(events) == 1 and events[0].id and events[0].data == ""

    replayed = [json.loads(event.data) for event in session.resume(events[0].id) if event.data]
    assert replayed[-1]["result"]["structuredContent"] == {"reconnected": True}


def test_last_event_id_of_another_session_replays_nothing(mcp_db, http_server_factory):
    server = http_server_factory(REDIS_URL=TEST_REDIS_URL)
    _, _, raw_a = member_key("user")
    _, _, raw_b = member_key("user")
    alice, mallory = wire(server, raw_a), wire(server, raw_b)
    alice.initialize()
    mallory.initialize()
    response = alice.open_call("kv_set", {"key": "diary", "value": "private"})
    events = list(sse_events(response.iter_lines()))
    response.close()
    assert json.loads(events[-1].data)["result"]["isError"] is False

    # Mallory's own session, Alice's event id (the one before her answer): nothing of Alice's comes back.
    assert mallory.resume(events[0].id) == []


def test_without_redis_streams_carry_no_event_ids(mcp_db, http_server_factory):
    server = http_server_factory()
    _, _, raw = member_key("user")
    session = wire(server, raw)
    session.initialize()
    response = session.open_call("whoami", {})
    events = list(sse_events(response.iter_lines()))
    response.close()
    assert [event.id for event in events] == [None]


def _response(request_id: int, text: str) -> types.JSONRPCResponse:
    return types.JSONRPCResponse(jsonrpc="2.0", id=request_id, result={"text": text})


def test_each_sessions_history_is_capped_in_events_and_bytes_and_expires():
    history = RedisEventHistory(TEST_REDIS_URL, max_events=5, max_bytes=2000, ttl_seconds=60)
    store = history.for_session("capped")
    replayed = []

    async def collect(event):
        replayed.append(event.message)

    async def main():
        first = await store.store_event("_GET_stream", None)
        for i in range(10):
            await store.store_event("_GET_stream", _response(i, "x"))
        assert await store.replay_events_after(first, collect) is None  # the priming event was dropped
        ids = [await store.store_event("big", None)]
        ids.append(await store.store_event("big", _response(99, "y" * 5000)))
        assert await store.replay_events_after(ids[0], collect) == "big"

    anyio.run(main)
    too_large = replayed[-1]
    assert isinstance(too_large, types.JSONRPCError) and too_large.id == 99 and too_large.error.code == -32003
    client = redis.Redis.from_url(TEST_REDIS_URL)
    assert client.xlen(store.key) <= 5
    assert int(client.get(store.bytes_key)) <= 2000
    assert 0 < client.ttl(store.key) <= 60
    client.delete(store.key, store.bytes_key)


def test_event_history_fails_open_when_redis_is_down():
    history = RedisEventHistory("redis://127.0.0.1:1/0", max_events=5, max_bytes=2000, ttl_seconds=60)
    store = history.for_session("down")

    async def main():
        assert await store.store_event("1", _response(1, "x")) is None
        assert await store.replay_events_after("1-0", lambda event: None) is None

    anyio.run(main)


def test_an_ended_sessions_history_is_dropped(mcp_db, http_server_factory):
    server = http_server_factory(REDIS_URL=TEST_REDIS_URL)
    _, _, raw = member_key("user")
    session = wire(server, raw)
    session.initialize()
    session.call("whoami", {})
    client = redis.Redis.from_url(TEST_REDIS_URL)
    key = f"mcp:sse:{session.session_id}"
    assert client.xlen(key) > 0

    assert session.http.delete(session.url, headers=session.headers()).status_code == 200
    deadline = time.monotonic() + 5
    while client.exists(key) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not client.exists(key)


def test_only_a_sessions_first_priming_event_is_stored_and_later_ones_still_resume():
    history = RedisEventHistory(TEST_REDIS_URL, max_events=4, max_bytes=100_000, ttl_seconds=60)
    store = history.for_session("primed")
    client = redis.Redis.from_url(TEST_REDIS_URL)
    replayed = []

    async def collect(event):
        replayed.append(event.message.id)

    async def main():
        await store.store_event("1", None)  # the session's first stream: stored
        await store.store_event("1", _response(1, "first answer"))
        stored = client.xlen(store.key)
        primed = await store.store_event("1", None)  # the request id used again, later: no round trip
        assert client.xlen(store.key) == stored
        await store.store_event("2", _response(2, "another stream"))
        await store.store_event("1", _response(11, "second answer"))
        # Only what the primed stream sent after its priming event: not the earlier stream with the same id.
        assert await store.replay_events_after(primed, collect) == "1"
        assert replayed == [11]
        for i in range(4):
            await store.store_event("3", _response(30 + i, "x"))
        # The point it resumes from has been trimmed away: nothing can be replayed complete.
        assert await store.replay_events_after(primed, collect) is None

    anyio.run(main)
    client.delete(store.key, store.bytes_key)


def test_a_reconnect_that_arrives_before_the_answer_waits_for_it_and_replays_it():
    """The conformance suite reconnects the moment a call's stream ends; a call that ends its stream and only then
    answers (SSE polling) may not have answered yet. The replay waits for that answer instead of coming back empty
    (the SDK's handover from replay to live tail would otherwise lose it)."""
    history = RedisEventHistory(TEST_REDIS_URL, max_events=50, max_bytes=100_000, ttl_seconds=60)
    store = history.for_session("early-reconnect")
    client = redis.Redis.from_url(TEST_REDIS_URL)
    replayed = []

    async def collect(event):
        replayed.append(event.message.id)

    async def answer_later():
        await anyio.sleep(0.3)
        await store.store_event("7", _response(7, "late answer"))

    async def main():
        primed = await store.store_event("7", None)
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(answer_later)
            assert await store.replay_events_after(primed, collect) == "7"
        assert replayed == [7]
        # Answered: a later reconnect to that stream does not wait.
        started = time.monotonic()
        assert await store.replay_events_after(primed, collect) == "7"
        assert time.monotonic() - started < 1

    anyio.run(main)
    client.delete(store.key, store.bytes_key)
