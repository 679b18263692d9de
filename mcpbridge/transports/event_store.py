"""SSE event history in Redis, so a Streamable HTTP stream survives a dropped connection: the client
reconnects with `Last-Event-ID` and gets what it missed (the SDK's resumability, spec 2025-11-25).

The SDK's `EventStore` interface knows stream ids (one per request, plus the standalone GET stream) but not
sessions, and request ids repeat across sessions, so the manager hands every session its own view
(`for_session`): events live in one Redis stream per session, and a `Last-Event-ID` of another session is
simply not found there. Each session's history is capped in events and bytes, deleted when the session ends
and expires when unused, so no session (and no tenant, whose sessions are capped) can fill Redis.

Every request's stream opens with a priming event (its id is where a reconnect resumes). Only a session's first
one is stored; later ones cost no round trip to Redis: their id names the last event this process stored for
the session and the stream (`<last id>~<stream id>`), and a reconnect with it replays that stream's events
after that point, provided that point is still in the history (trimmed away: nothing to resume from).

A reconnect can arrive before the call it resumes has answered (a call that ends its stream at once and answers
on reconnect, SSE polling): the SDK then has nothing to replay and may not tail the stream live either (its
replay-then-tail handover has a window). So a replay of a request stream whose answer this process has not stored
yet waits for that answer, a few seconds at most, and replays it with the rest.

Redis trouble fails open: the stream still works, it just is not resumable until Redis answers again
(one log line per outage).
"""

import logging
import re

import anyio
import mcp_types as types
import redis.asyncio as aioredis
from mcp.server.streamable_http import GET_STREAM_KEY, EventCallback, EventId, EventMessage, EventStore, StreamId
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

_TIMEOUT_SECONDS = 1.0
_KEY = "mcp:sse:{session}"
_EVENT_ID = re.compile(r"\d{1,20}-\d{1,20}")
_AFTER = "~"  # in a priming event id: <id of the last event stored before it>~<stream id>
_TOO_LARGE = -32003
_ANSWER_WAIT_SECONDS = 5.0  # how long a replay waits for the answer of a call still running
_MAX_UNANSWERED = 1000  # request streams remembered as unanswered per session (a bound, not a limit on calls)

# Append, then drop the oldest entries while the stream holds too many events or bytes; refresh the expiry.
# KEYS: stream, byte counter. ARGV: stream id, payload, max events, max bytes, ttl seconds.
_APPEND = """
local id = redis.call('XADD', KEYS[1], '*', 's', ARGV[1], 'm', ARGV[2])
local total = redis.call('INCRBY', KEYS[2], string.len(ARGV[2]))
local max_events, max_bytes = tonumber(ARGV[3]), tonumber(ARGV[4])
while redis.call('XLEN', KEYS[1]) > max_events or total > max_bytes do
  local oldest = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1)[1]
  if not oldest then break end
  redis.call('XDEL', KEYS[1], oldest[1])
  total = redis.call('DECRBY', KEYS[2], string.len(oldest[2][4]))
end
redis.call('EXPIRE', KEYS[1], ARGV[5])
redis.call('EXPIRE', KEYS[2], ARGV[5])
return id
"""


class RedisEventHistory:
    """The shared part: one connection pool, the limits, the outage state. Sessions get `for_session`."""

    def __init__(self, url: str, *, max_events: int, max_bytes: int, ttl_seconds: int):
        self.max_events = max_events
        self.max_bytes = max_bytes
        self.ttl_seconds = ttl_seconds
        self.redis = aioredis.Redis.from_url(
            url, socket_timeout=_TIMEOUT_SECONDS, socket_connect_timeout=_TIMEOUT_SECONDS
        )
        self.append = self.redis.register_script(_APPEND)
        self._down = False

    def for_session(self, session_id: str) -> "SessionEventStore":
        return SessionEventStore(self, session_id)

    async def forget(self, session_id: str) -> None:
        """Drop an ended session's history (a replica that dies leaves its sessions' histories to expire)."""
        store = self.for_session(session_id)
        try:
            await self.redis.delete(store.key, store.bytes_key)
        except RedisError as exc:
            self.failed(exc)

    def failed(self, exc: Exception) -> None:
        if not self._down:
            self._down = True
            logger.warning("SSE event history unavailable (%s); streams are not resumable until Redis answers", exc)

    def answered(self) -> None:
        if self._down:
            self._down = False
            logger.warning("SSE event history available again")


class SessionEventStore(EventStore):
    def __init__(self, history: RedisEventHistory, session_id: str):
        self.history = history
        self.key = _KEY.format(session=session_id)
        self.bytes_key = self.key + ":bytes"
        # The newest id this process stored for the session (a session lives in one process).
        self._last: tuple[int, int] | None = None
        # Request streams opened (primed) whose answer is not stored yet; the event exists once a replay waits.
        self._unanswered: dict[StreamId, anyio.Event | None] = {}

    async def store_event(self, stream_id: StreamId, message: types.JSONRPCMessage | None) -> EventId | None:
        if message is None:
            self._opened(stream_id)
            if self._last is not None:
                return f"{self._last[0]}-{self._last[1]}{_AFTER}{stream_id}"
        payload = _payload(message, self.history.max_bytes)
        try:
            event_id = await self.history.append(
                keys=[self.key, self.bytes_key],
                args=[stream_id, payload, self.history.max_events, self.history.max_bytes, self.history.ttl_seconds],
            )
        except RedisError as exc:
            # The SDK's message router stops for good if this raises; an event without an id is just not replayable.
            self.history.failed(exc)
            self._answered(stream_id, message)
            return None
        self._answered(stream_id, message)
        self.history.answered()
        event_id = event_id.decode()
        stored = tuple(int(part) for part in event_id.split("-"))
        if self._last is None or stored > self._last:
            self._last = stored
        return event_id

    async def replay_events_after(self, last_event_id: EventId, send_callback: EventCallback) -> StreamId | None:
        last_event_id, primed, primed_stream = last_event_id.partition(_AFTER)
        if not _EVENT_ID.fullmatch(last_event_id):
            return None
        try:
            found = await self.history.redis.xrange(self.key, last_event_id, last_event_id)
            if not found:
                return None
            stream_id = primed_stream if primed else found[0][1][b"s"].decode()
            if stream_id in self._unanswered:
                await self._answer_of(stream_id)
            after = await self.history.redis.xrange(self.key, "(" + last_event_id, "+")
        except RedisError as exc:
            self.history.failed(exc)
            return None
        self.history.answered()
        for event_id, fields in after:
            if fields[b"s"].decode() != stream_id or not fields[b"m"]:
                continue  # another stream of this session, or a priming event
            message = types.jsonrpc_message_adapter.validate_json(fields[b"m"])
            await send_callback(EventMessage(message, event_id.decode()))
        return stream_id

    def _opened(self, stream_id: StreamId) -> None:
        if stream_id == GET_STREAM_KEY or stream_id in self._unanswered:
            return
        if len(self._unanswered) >= _MAX_UNANSWERED:
            self._unanswered.pop(next(iter(self._unanswered)))
        self._unanswered[stream_id] = None

    def _answered(self, stream_id: StreamId, message: types.JSONRPCMessage | None) -> None:
        if isinstance(message, types.JSONRPCResponse | types.JSONRPCError):
            waiting = self._unanswered.pop(stream_id, None)
            if waiting is not None:
                waiting.set()

    async def _answer_of(self, stream_id: StreamId) -> None:
        waiting = self._unanswered[stream_id]
        if waiting is None:
            waiting = self._unanswered[stream_id] = anyio.Event()
        with anyio.move_on_after(_ANSWER_WAIT_SECONDS):
            await waiting.wait()


def _payload(message: types.JSONRPCMessage | None, max_bytes: int) -> bytes:
    """The message as stored; a priming event is empty. A message too large to keep is stored as what the client
    can act on: for an answer, an error with the same id telling it to repeat the call; anything else is dropped."""
    if message is None:
        return b""
    payload = message.model_dump_json(by_alias=True, exclude_unset=True).encode()
    if len(payload) <= max_bytes:
        return payload
    request_id = getattr(message, "id", None)
    if not isinstance(message, types.JSONRPCResponse | types.JSONRPCError) or request_id is None:
        return b""
    error = types.JSONRPCError(
        jsonrpc="2.0",
        id=request_id,
        error=types.ErrorData(code=_TOO_LARGE, message="The answer was too large to keep for a reconnect; repeat the call."),
    )
    return error.model_dump_json(by_alias=True, exclude_unset=True).encode()
