"""MCP sessions as the server sees them: live ones in memory, each mirrored by an McpSession row.

Hot-path bookkeeping (request count, last seen) stays in memory and is written by the background loop, and
once more when the session ends. A handshake-era connection is one session; a 2026-07-28 (stateless) caller
has no session id, so its session is its API key's stream of calls on this server process.

Caps: a tenant's `max_mcp_sessions`, and below it each key's `max_mcp_sessions_per_key`. At either cap the
key's least-recently-used idle sessions make room (they end as idle) before a new one is refused; a key never
ends another key's session.
"""

import logging
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connections, router, transaction
from django.db.models import F
from django.utils import timezone

from mcpbridge.models import McpSession
from mcpbridge.server.errors import tenant_error
from mcpbridge.services.sessions import mcp_session_audit_ended, mcp_session_audit_opened, session_actor
from tenants.limits import Limit
from tenants.models import Tenant
from tenants.models.audit import AuditOutcome
from tenants.policy import Principal

logger = logging.getLogger(__name__)

# Why a session ended, beyond its stored end reason: written in its audit event.
WHY_EVICTED = "evicted: its key opened a session at a cap; this was the key's least recently used idle session"
WHY_VANISHED = "reclaimed: the client went away without closing it (no request and no event stream)"


@dataclass(eq=False)
class LiveSession:
    record_id: str
    transport: str
    raw_key: str
    tenant_id: str
    api_key_id: str
    protocol_version: str
    transport_session_id: str = ""
    actor_label: str = ""
    user_id: int | None = None
    # Sends notifications/tools/list_changed to this session's client; None when it cannot receive one.
    notify_tools_changed: Callable[[], Awaitable[None]] | None = None
    close: Callable[[], Awaitable[None]] | None = None
    visible: frozenset[str] | None = None
    last_seen: float = field(default_factory=time.monotonic)
    unflushed_requests: int = 0
    calls_in_flight: int = 0
    end_reason: str = ""

    def touch(self) -> None:
        self.last_seen = time.monotonic()
        self.unflushed_requests += 1

    @property
    def ended(self) -> bool:
        return bool(self.end_reason)

    @property
    def last_seen_at(self) -> datetime:
        return timezone.now() - timedelta(seconds=time.monotonic() - self.last_seen)


class SessionRegistry:
    def __init__(self, *, transport: str, idle_seconds: int, reclaim_grace_seconds: int | None = None):
        self.transport = transport
        self.idle_seconds = idle_seconds
        self.reclaim_grace_seconds = (
            settings.MCP_SESSION_RECLAIM_GRACE_SECONDS if reclaim_grace_seconds is None else reclaim_grace_seconds
        )
        self._lock = threading.Lock()
        self._live: dict[str, LiveSession] = {}

    def open(
        self,
        *,
        principal: Principal,
        raw_key: str,
        protocol_version: str,
        client_name: str = "",
        client_version: str = "",
        transport_session_id: str = "",
    ) -> tuple[LiveSession, list[LiveSession]]:
        """Record a new session, making room at a cap by ending the key's least-recently-used idle sessions.
        Returns it and the sessions of this process it ended (for the caller to close their transports).

        Counting, evicting and inserting happen under one lock on the tenant, so processes opening sessions at
        the same time take turns and the tenant never ends above its limits: PostgreSQL locks the tenant row
        (SELECT ... FOR UPDATE); SQLite transactions here begin IMMEDIATE, which takes the database's write lock
        up front.
        """
        actor = session_actor(principal.actor_label, principal.user_id)
        # Refused without taking the tenant's lock when even this unlocked look finds no room: a client retrying
        # against its cap (or a flood of them) then costs two reads, not a serialized write transaction.
        self.check_room(principal)
        with transaction.atomic():
            list(Tenant.objects.select_for_update().filter(pk=principal.tenant_id).order_by().values_list("pk"))
            evicted = self._end_rows(self._room(principal), McpSession.EndReason.IDLE, WHY_EVICTED)
            record = McpSession.objects.create(
                tenant_id=principal.tenant_id,
                membership_id=principal.membership_id,
                api_key_id=principal.api_key_id,
                transport=self.transport,
                transport_session_id=transport_session_id[:128],
                protocol_version=protocol_version[:32],
                client_name=client_name[:200],
                client_version=client_version[:100],
            )
            mcp_session_audit_opened(session=record, actor=actor)
        live = LiveSession(
            record_id=str(record.pk),
            transport=self.transport,
            raw_key=raw_key,
            tenant_id=principal.tenant_id,
            api_key_id=principal.api_key_id,
            protocol_version=protocol_version,
            transport_session_id=transport_session_id,
            actor_label=principal.actor_label,
            user_id=principal.user_id,
        )
        with self._lock:
            self._live[live.record_id] = live
        return live, evicted

    def check_room(self, principal: Principal) -> None:
        """Raises the refusal a new session of this principal would get: no room under a cap, none to make."""
        self._room(principal)

    def _room(self, principal: Principal) -> list[str]:
        """The sessions to end to make room for one more; raises the refusal when there is no room to make."""
        tenant_max = principal.limits[Limit.MAX_MCP_SESSIONS]
        key_max = principal.limits[Limit.MAX_MCP_SESSIONS_PER_KEY]
        open_rows = _open_sessions(principal.tenant_id, self.idle_seconds)
        tenant_count = open_rows.count()
        key_rows = list(open_rows.filter(api_key_id=principal.api_key_id).values_list("pk", "last_seen_at"))
        needed = max(0, len(key_rows) - key_max + 1, tenant_count - tenant_max + 1)
        if not needed:
            return []
        victims = self._least_recently_used_idle(key_rows)[:needed]
        if len(victims) < needed:
            if len(key_rows) >= key_max:
                raise _cap_refusal(
                    Limit.MAX_MCP_SESSIONS_PER_KEY,
                    key_max,
                    f"This API key already has {len(key_rows)} open MCP sessions, its limit of {key_max}, and none "
                    "of them is idle; close one (or let it expire) before opening another.",
                )
            raise _cap_refusal(
                Limit.MAX_MCP_SESSIONS,
                tenant_max,
                f"This tenant already has {tenant_count} open MCP sessions, its limit of {tenant_max}; close one or "
                "wait for it to expire.",
            )
        return victims

    def _least_recently_used_idle(self, key_rows) -> list[str]:
        """Ids of the key's sessions that may be evicted, least recently used first: this process's sessions
        with no call running, and other processes' sessions not seen for the reclaim grace period (what runs
        there cannot be seen from here)."""
        local = {live.record_id: live for live in self.live()}
        remote_cutoff = timezone.now() - timedelta(seconds=self.reclaim_grace_seconds)
        candidates = []
        for pk, last_seen_at in key_rows:
            live = local.get(str(pk))
            if live is None:
                if last_seen_at < remote_cutoff:
                    candidates.append((last_seen_at, str(pk)))
            elif live.calls_in_flight == 0:
                candidates.append((live.last_seen_at, str(pk)))
        return [pk for _, pk in sorted(candidates)]

    def live(self) -> list[LiveSession]:
        with self._lock:
            return list(self._live.values())

    def forget(self, live: LiveSession) -> None:
        with self._lock:
            self._live.pop(live.record_id, None)

    def flush(self) -> None:
        """Write request counts and last-seen times of live sessions: one UPDATE for every session that had
        requests since the last flush (per _FLUSH_BATCH of them), not one per session."""
        seen = []
        for live in self.live():
            count, live.unflushed_requests = live.unflushed_requests, 0
            if count:
                seen.append((live.record_id, count, live.last_seen_at))
        for start in range(0, len(seen), _FLUSH_BATCH):
            _add_requests(seen[start : start + _FLUSH_BATCH])

    def end(self, live: LiveSession, reason: str, why: str = "") -> None:
        """End a session of this process: its last requests are counted, the end recorded and audited."""
        live.end_reason = live.end_reason or reason
        self._end_rows([live.record_id], reason, why or reason)

    def _end_rows(self, record_ids: list[str], reason: str, why: str) -> list[LiveSession]:
        """End these sessions (wherever they run); returns the ones that were live in this process."""
        with self._lock:
            local = [self._live.pop(pk) for pk in record_ids if pk in self._live]
        unflushed = {}
        for live in local:
            live.end_reason = live.end_reason or reason
            unflushed[live.record_id], live.unflushed_requests = live.unflushed_requests, 0
        end_session_rows(record_ids, reason, why, unflushed=unflushed)
        return local

    def ended_elsewhere(self) -> list[LiveSession]:
        """Live sessions whose row was ended outside this process (an admin revoked them, another process
        evicted them). Their last requests are still counted."""
        by_id = {live.record_id: live for live in self.live()}
        if not by_id:
            return []
        ended = McpSession.objects.filter(pk__in=list(by_id), ended_at__isnull=False).values_list(
            "pk", "end_reason"
        )
        found = []
        for pk, reason in ended:
            live = by_id[str(pk)]
            live.end_reason = reason or McpSession.EndReason.REVOKED
            self.forget(live)
            count, live.unflushed_requests = live.unflushed_requests, 0
            if count:
                McpSession.objects.filter(pk=pk).update(request_count=F("request_count") + count)
            found.append(live)
        return found

    def idle(self) -> list[LiveSession]:
        cutoff = time.monotonic() - self.idle_seconds
        return [live for live in self.live() if live.last_seen < cutoff and live.calls_in_flight == 0]

    def end_all(self, reason: str) -> None:
        lives = self.live()
        if lives:
            self._end_rows([live.record_id for live in lives], reason, reason)


# Sessions written by one UPDATE: each costs four parameters, well under every database's limit per statement.
_FLUSH_BATCH = 500


def _add_requests(seen: list[tuple[str, int, datetime]]) -> None:
    """Add each session's new requests to its count and set its last-seen time, in one statement (plain SQL:
    compiling the equivalent queryset of CASE expressions cost ten times the statement for 32 sessions)."""
    connection = connections[router.db_for_write(McpSession)]
    meta = McpSession._meta
    quote = connection.ops.quote_name
    pk, count_column, seen_column = (
        quote(meta.get_field(name).column) for name in ("id", "request_count", "last_seen_at")
    )
    ids = [meta.pk.get_db_prep_value(record_id, connection) for record_id, _, _ in seen]
    last_seen = meta.get_field("last_seen_at")
    counts = [value for record_id, (_, count, _) in zip(ids, seen, strict=True) for value in (record_id, count)]
    times = [
        value
        for record_id, (_, _, at) in zip(ids, seen, strict=True)
        for value in (record_id, last_seen.get_db_prep_value(at, connection))
    ]
    whens = " ".join(["WHEN %s THEN %s"] * len(seen))
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {quote(meta.db_table)} SET {count_column} = {count_column} + (CASE {pk} {whens} ELSE 0 END), "
            f"{seen_column} = (CASE {pk} {whens} ELSE {seen_column} END) "
            f"WHERE {pk} IN ({', '.join(['%s'] * len(ids))})",
            [*counts, *times, *ids],
        )


def _open_sessions(tenant_id: str, idle_seconds: int):
    fresh = timezone.now() - timedelta(seconds=idle_seconds)
    return McpSession.objects.filter(tenant_id=tenant_id, ended_at__isnull=True, last_seen_at__gte=fresh)


def open_session_count(tenant_id: str, idle_seconds: int) -> int:
    return _open_sessions(tenant_id, idle_seconds).count()


def _owner(row: McpSession):
    prefix = row.api_key.prefix if row.api_key_id else "unknown"
    return session_actor(f"key:{prefix}", row.membership.user_id if row.membership_id else None)


def _cap_refusal(limit: str, maximum: int, message: str):
    return tenant_error("max_sessions", message, AuditOutcome.DENIED, limit=limit, max=maximum)


def end_session_rows(record_ids: list[str], reason: str, why: str, *, unflushed: dict[str, int] | None = None):
    """End the sessions of these rows that are still open, counting requests not yet written, and audit each
    end once: the rows are locked, so of two processes ending the same session only one records it."""
    now = timezone.now()
    with transaction.atomic():
        for pk, count in (unflushed or {}).items():
            if count:
                McpSession.objects.filter(pk=pk).update(request_count=F("request_count") + count)
        rows = list(
            McpSession.objects.select_for_update(of=("self",))
            .select_related("api_key", "membership")
            .filter(pk__in=record_ids, ended_at__isnull=True)
        )
        if not rows:
            return
        McpSession.objects.filter(pk__in=[row.pk for row in rows]).update(ended_at=now, end_reason=reason)
        mcp_session_audit_ended(
            ended=[
                dict(
                    session_id=row.pk,
                    tenant_id=row.tenant_id,
                    actor=_owner(row),
                    reason=reason,
                    why=why,
                )
                for row in rows
            ]
        )


def end_stale_sessions(idle_seconds: int) -> int:
    """End rows left open by processes that died: nothing has been seen of them for the idle period."""
    cutoff = timezone.now() - timedelta(seconds=idle_seconds)
    stale_rows = McpSession.objects.filter(ended_at__isnull=True, last_seen_at__lt=cutoff)
    stale = [str(pk) for pk in stale_rows.values_list("pk", flat=True)]
    if stale:
        end_session_rows(stale, McpSession.EndReason.IDLE, "expired: nothing seen of it for the idle period")
    return len(stale)
