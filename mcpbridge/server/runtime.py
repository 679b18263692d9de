"""Per-process state of one MCP server: the pipeline, live sessions, and the background loop that keeps
them honest (revocations, idle expiry, policy changes -> tools/list_changed, buffered writes)."""

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import anyio
from anyio import to_thread
from django.conf import settings
from django.db import close_old_connections
from mcp.server.subscriptions import InMemorySubscriptionBus, ToolsListChanged
from mcp_types.version import MODERN_PROTOCOL_VERSIONS

from controlplane.database import DATABASE_UNAVAILABLE, database_outage
from mcpbridge.models import McpSession
from mcpbridge.server.callers import ContextStore
from mcpbridge.server.errors import RATE_LIMITED, TENANT_ERROR, Refusal, tenant_error
from mcpbridge.server.limiter import Limiter
from mcpbridge.server.pipeline import CallerInfo, Pipeline
from mcpbridge.server.refusal_tally import RefusalTally
from mcpbridge.server.registry import ToolRegistry
from mcpbridge.server.sessions import WHY_VANISHED, LiveSession, SessionRegistry, end_stale_sessions
from mcpbridge.server.telemetry import Telemetry
from mcpbridge.server.tools import default_registry
from mcpbridge.services.sessions import session_actor
from tenants.policy import Principal, ResolutionError
from tenants.policy.version import policy_version

logger = logging.getLogger(__name__)

_LIVE = "controlplane.live_session"
_CLIENT_INFO_META = "io.modelcontextprotocol/clientInfo"
_STALE_SWEEP_EVERY_TICKS = 20

# Reads the caller's raw API key off a request context (bearer token over HTTP, the process's key over stdio).
Credential = Callable[[object], str | None]
# What resolving that key already found earlier in the same request (HTTP: the bearer check), or None.
Resolution = Callable[[object], Principal | ResolutionError | None]


@dataclass(eq=False)
class Listener:
    """A 2026-07-28 subscriptions/listen stream: that era's way of receiving tools/list_changed."""

    raw_key: str
    visible: frozenset[str]
    bus: InMemorySubscriptionBus = field(default_factory=InMemorySubscriptionBus)


class Runtime:
    def __init__(
        self,
        *,
        transport: str,
        credential: Credential,
        resolution: Resolution | None = None,
        registry: ToolRegistry | None = None,
        tick_seconds: float | None = None,
    ):
        self.transport = transport
        self.credential = credential
        self.resolution = resolution or (lambda ctx: None)
        self.registry = registry or default_registry()
        self.telemetry = Telemetry()
        self.refusals = RefusalTally()
        self.contexts = ContextStore()
        self.pipeline = Pipeline(
            registry=self.registry, limiter=Limiter(settings.REDIS_URL), telemetry=self.telemetry, contexts=self.contexts
        )
        self.sessions = SessionRegistry(transport=transport, idle_seconds=settings.MCP_SESSION_IDLE_SECONDS)
        self.tick_seconds = tick_seconds or settings.MCP_WATCH_INTERVAL_SECONDS
        self.listeners: set[Listener] = set()
        # Set by the transport: how to end one session now (terminate its HTTP transport, stop the stdio server).
        self.close_session: Callable[[LiveSession], Awaitable[None]] | None = None
        # Set by the transport: seconds a session's transport has had no request and no event stream open, or
        # None while it has one (or cannot tell). Past the reclaim grace, its client is taken to be gone.
        self.transport_idle_seconds: Callable[[LiveSession], float | None] | None = None
        self._by_key: dict[str, LiveSession] = {}
        self._by_transport: dict[str, LiveSession] = {}
        self._inflight = 0
        # Made only by drained() while calls run (an event per call showed in profiles), set when they have ended.
        self._idle: anyio.Event | None = None
        self._version: int | None = None
        self._ticks = 0

    # --- sessions -----------------------------------------------------------------------------------

    async def attach(self, ctx) -> LiveSession:
        """The live session a request belongs to, opened on the first request (the handshake, or a
        stateless caller's first call). Raises Refusal when it cannot be opened or has been ended."""
        raw_key = self.credential(ctx)
        connection = getattr(ctx.session, "_connection", None)
        modern = ctx.method != "initialize" and ctx.protocol_version in MODERN_PROTOCOL_VERSIONS
        if modern or connection is None:
            live = self._by_key.get(raw_key or "")
            if live is not None and live.ended:
                self._by_key.pop(raw_key, None)
                raise _session_ended(live)
            if live is None:
                info = ((ctx.params or {}).get("_meta") or {}).get(_CLIENT_INFO_META) or {}
                live = await self._open(raw_key, ctx.protocol_version, info, resolved=self.resolution(ctx))
                self._by_key[raw_key] = live
        else:
            live = connection.state.get(_LIVE)
            if live is None:
                params = ctx.params or {}
                version = params.get("protocolVersion") if ctx.method == "initialize" else None
                live = await self._open(
                    raw_key,
                    version or ctx.protocol_version,
                    params.get("clientInfo") or {},
                    connection.session_id,
                    resolved=self.resolution(ctx),
                )
                live.notify_tools_changed = connection.send_tool_list_changed
                connection.state[_LIVE] = live
                if connection.session_id:
                    self._by_transport[connection.session_id] = live
                connection.exit_stack.push_async_callback(self._connection_closed, live)
            elif live.ended:
                raise _session_ended(live)
        live.touch()
        return live

    def attached(self, ctx) -> LiveSession | None:
        """`attach` without its awaits for the common case, every request after a connection's first: the open
        session already on the request's connection, touched. None when `attach` has to run."""
        connection = getattr(ctx.session, "_connection", None)
        if connection is None or (ctx.method != "initialize" and ctx.protocol_version in MODERN_PROTOCOL_VERSIONS):
            return None
        live = connection.state.get(_LIVE)
        if live is None or live.ended:
            return None
        live.touch()
        return live

    def live_for(self, ctx) -> LiveSession | None:
        connection = getattr(ctx.session, "_connection", None)
        live = connection.state.get(_LIVE) if connection is not None else None
        return live or self._by_key.get(self.credential(ctx) or "")

    def has_session(self, transport_session_id: str) -> bool:
        """Whether a transport session carries an open session of ours. One that does not after its opening
        request was answered was refused (or never got that far): the transport discards it."""
        live = self._by_transport.get(transport_session_id)
        return live is not None and not live.ended

    async def _open(self, raw_key, protocol_version: str, client_info: dict, transport_session_id=None, resolved=None):
        def open_sync() -> tuple[LiveSession, list[LiveSession]]:
            close_old_connections()
            principal = None
            try:
                principal = self.pipeline.principal(CallerInfo(raw_key, resolved=resolved), strict_context=False)
                live, evicted = self.sessions.open(
                    principal=principal,
                    raw_key=raw_key,
                    protocol_version=str(protocol_version or ""),
                    client_name=str(client_info.get("name") or ""),
                    client_version=str(client_info.get("version") or ""),
                    transport_session_id=transport_session_id or "",
                )
            except Refusal as refusal:
                self._audit_refused(principal, refusal)
                raise
            live.visible = self.registry.visible_names(principal)
            return live, evicted

        live, evicted = await to_thread.run_sync(open_sync)
        for other in evicted:
            self._forget(other)
            await self._close(other)
        return live

    def session_refusal(self, raw_key: str | None, resolved=None, *, door: str = "", address: str = "") -> Refusal | None:
        """The refusal a new session of this key would get right now, audited, or None when it may try (the
        decision is taken again, under the tenant's lock, when the session opens)."""
        caller = CallerInfo(raw_key, resolved=resolved, door=door or CallerInfo.door, address=address)
        principal = None
        try:
            principal = self.pipeline.principal(caller, strict_context=False)
            self.sessions.check_room(principal)
        except Refusal as refusal:
            if principal is None and refusal.unauthenticated:
                # Refused while authenticating (tenant suspended...): counted like every other such refusal.
                self.pipeline.audit_unauthenticated(caller, "mcp:initialize", refusal)
            else:
                self._audit_refused(principal, refusal)
            return refusal
        return None

    def session_rate_limited(self, resolved, refusal: Refusal) -> None:
        """A session-opening request refused by a rate, before any session state: audited like other refusals."""
        if isinstance(resolved, Principal):
            self._audit_refused(resolved, refusal)
        elif isinstance(resolved, ResolutionError):
            refusal.tenant_id, refusal.key_prefix = resolved.tenant_id, resolved.key_prefix
            self._audit_refused(None, refusal)

    def _audit_refused(self, principal: Principal | None, refusal: Refusal) -> None:
        """A refused session of a known tenant. Refusals before a tenant is known (missing, unknown, revoked or
        expired keys) are authentication failures, aggregated by the audit service, not recorded per attempt."""
        if refusal.code not in (TENANT_ERROR, RATE_LIMITED):
            return
        if principal is not None:
            tenant_id, actor = principal.tenant_id, session_actor(principal.actor_label, principal.user_id)
        elif refusal.tenant_id:
            tenant_id, actor = refusal.tenant_id, session_actor(f"key:{refusal.key_prefix or 'unknown'}")
        else:
            return
        reason = refusal.data.get("reason") or refusal.data.get("limit")
        details = {"operation": "mcp_session.open", "transport": self.transport, "reason": reason, "count": 1}
        if refusal.data.get("limit"):
            details["limit"] = refusal.data["limit"]
        event = dict(actor=actor, tenant_id=tenant_id, target="mcp_session", outcome=refusal.outcome, details=details)
        if self.refusals.first((tenant_id, actor.label, reason), event):
            self.telemetry.record(**event)

    def _end_sync(self, live: LiveSession, reason: str, why: str = "") -> None:
        # Buffered audit events of the session's calls are written first, so none is dated after its end.
        self.telemetry.flush()
        self.sessions.end(live, reason, why)

    async def _end(self, live: LiveSession, reason: str, why: str = "") -> None:
        await to_thread.run_sync(self._end_sync, live, reason, why)
        self._forget(live)

    def _forget(self, live: LiveSession) -> None:
        if self._by_transport.get(live.transport_session_id) is live:
            del self._by_transport[live.transport_session_id]

    async def _connection_closed(self, live: LiveSession) -> None:
        if not live.ended:
            try:
                await self._end(live, McpSession.EndReason.CLIENT_CLOSED)
            except DATABASE_UNAVAILABLE as exc:
                # One log line per outage, not a traceback per departing client; the stale-session sweep ends
                # the row once nothing has been seen of it for the idle period.
                database_outage.failed(exc)
        self._forget(live)

    async def _close(self, live: LiveSession) -> None:
        if self.close_session is not None:
            try:
                await self.close_session(live)
            except Exception:
                logger.exception("Could not close MCP session %s", live.record_id)

    # --- in-flight calls (drained before a stdio server exits) ---------------------------------------

    def call_started(self, live: LiveSession | None = None) -> None:
        if live is not None:
            live.calls_in_flight += 1
        self._inflight += 1

    def call_finished(self, live: LiveSession | None = None) -> None:
        if live is not None:
            live.calls_in_flight -= 1
        self._inflight -= 1
        if self._inflight <= 0:
            self._inflight = 0
            if self._idle is not None:
                self._idle.set()
                self._idle = None

    async def drained(self, timeout: float) -> bool:
        if self._inflight <= 0:
            return True
        if self._idle is None:
            self._idle = anyio.Event()
        idle = self._idle
        with anyio.move_on_after(timeout):
            await idle.wait()
            return True
        return False

    # --- background loop ---------------------------------------------------------------------------

    async def watch(self) -> None:
        # Sessions compute their visible tools after this read, so no change can fall between the two.
        while self._version is None:
            await self._guarded_tick(self._read_version)
            if self._version is None:
                await anyio.sleep(self.tick_seconds)
        while True:
            await anyio.sleep(self.tick_seconds)
            await self._guarded_tick(self.tick)

    async def _read_version(self) -> None:
        self._version = await to_thread.run_sync(_fresh, policy_version)

    async def _guarded_tick(self, step) -> None:
        # A lost database is one log line per outage and is retried on the next tick, never a traceback per tick.
        try:
            await step()
        except DATABASE_UNAVAILABLE as exc:
            database_outage.failed(exc)
            return
        except Exception:
            logger.exception("MCP background tick failed")
            return
        database_outage.succeeded()

    async def tick(self) -> None:
        ended, version = await to_thread.run_sync(self._tick_sync)
        for live in ended:
            self._forget(live)
            await self._close(live)
        for live in self.sessions.idle():
            await self._end(live, McpSession.EndReason.IDLE)
            await self._close(live)
        for live in self._vanished():
            await self._end(live, McpSession.EndReason.IDLE, WHY_VANISHED)
            await self._close(live)
        if version != self._version:
            await self._announce_policy_change()
        self._version = version

    def _vanished(self) -> list[LiveSession]:
        if self.transport_idle_seconds is None:
            return []
        grace = settings.MCP_SESSION_RECLAIM_GRACE_SECONDS
        vanished = []
        for live in self.sessions.live():
            idle = self.transport_idle_seconds(live)
            if idle is not None and idle > grace and live.calls_in_flight == 0:
                vanished.append(live)
        return vanished

    def _tick_sync(self) -> tuple[list[LiveSession], int]:
        close_old_connections()
        for event in self.refusals.closed():
            self.telemetry.record(**event)
        self.telemetry.flush()
        self.sessions.flush()
        ended = self.sessions.ended_elsewhere()
        self._ticks += 1
        if self._ticks % _STALE_SWEEP_EVERY_TICKS == 0:
            end_stale_sessions(settings.MCP_SESSION_IDLE_SECONDS)
        return ended, policy_version()

    async def _announce_policy_change(self) -> None:
        """Tell every session whose visible tools changed; a caller that lost its key or tenant sees none."""
        for live in self.sessions.live():
            if live.notify_tools_changed is None:
                continue
            visible = await to_thread.run_sync(self.pipeline.visible_names, live.raw_key)
            if visible != live.visible:
                live.visible = visible
                await live.notify_tools_changed()
        for listener in list(self.listeners):
            visible = await to_thread.run_sync(self.pipeline.visible_names, listener.raw_key)
            if visible != listener.visible:
                listener.visible = visible
                await listener.bus.publish(ToolsListChanged())

    async def shutdown(self) -> None:
        def finish():
            for event in self.refusals.closed(everything=True):
                self.telemetry.record(**event)
            self.telemetry.flush()
            self.sessions.end_all(McpSession.EndReason.SERVER_SHUTDOWN)
            self.telemetry.flush()

        with anyio.CancelScope(shield=True):
            await to_thread.run_sync(finish)


def _fresh(function):
    close_old_connections()
    return function()


def _session_ended(live: LiveSession) -> Refusal:
    return tenant_error(
        "session_ended",
        f"This MCP session has ended ({live.end_reason or 'ended'}); reconnect to start a new one.",
    )
