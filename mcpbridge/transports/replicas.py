"""What one HTTP server process needs to stand among several behind a load balancer.

Stateful MCP sessions live in the memory of the process that created them. A session id naming its replica
(`<MCP_REPLICA_ID>.<random>`) lets the balancer send every request of a session back there, which hashing the
id cannot: the request that creates a session carries no id yet, so a hash would pick another replica for its
second request. When that replica is gone, the balancer sends the request elsewhere and the client gets the
spec's answer for an unknown session (404), then initializes again.

With REDIS_URL, each session also gets its own SSE event history there, so its streams can be resumed.
"""

import anyio
from django.conf import settings
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager

from mcpbridge.transports.event_store import RedisEventHistory


def event_history() -> RedisEventHistory | None:
    if not settings.REDIS_URL:
        return None
    return RedisEventHistory(
        settings.REDIS_URL,
        max_events=settings.MCP_SSE_HISTORY_MAX_EVENTS,
        max_bytes=settings.MCP_SSE_HISTORY_MAX_BYTES,
        ttl_seconds=settings.MCP_SSE_HISTORY_SECONDS,
    )


def prepare_for_replicas(manager: StreamableHTTPSessionManager) -> None:
    """Name this replica in new session ids and give each new session its event history, dropped when it ends.

    The SDK (pinned) creates a session's transport in `_admit_session` with a random id and one event store for
    every session; both are adjusted right there, before the session serves its first request. Every way a
    session ends goes through `_discard_session`."""
    history = event_history()
    replica_id = settings.MCP_REPLICA_ID
    admit = manager._admit_session

    def admit_for_replicas(requestor):
        transport = admit(requestor)
        if transport is None:
            return None
        if replica_id:
            _rename_session(manager, transport, f"{replica_id}.{transport.mcp_session_id}")
        if history is not None:
            transport._event_store = history.for_session(transport.mcp_session_id)
            transport._retry_interval = settings.MCP_SSE_RETRY_MS
        return transport

    manager._admit_session = admit_for_replicas
    if history is None:
        return
    discard = manager._discard_session

    async def discard_with_history(session_id: str, transport) -> None:
        await discard(session_id, transport)
        with anyio.CancelScope(shield=True):  # also when the session's task is being cancelled
            await history.forget(session_id)

    manager._discard_session = discard_with_history


def _rename_session(manager: StreamableHTTPSessionManager, transport, session_id: str) -> None:
    previous = transport.mcp_session_id
    transport.mcp_session_id = session_id
    manager._server_instances[session_id] = manager._server_instances.pop(previous)
    if previous in manager._session_owners:
        manager._session_owners[session_id] = manager._session_owners.pop(previous)
