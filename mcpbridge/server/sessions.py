"""MCP sessions as the server sees them: live ones in memory, each mirrored by an McpSession row.

Hot-path bookkeeping (request count, last seen) stays in memory and is written by the background loop.
A handshake-era connection is one session; a 2026-07-28 (stateless) caller has no session id, so its
session is its API key's stream of calls on this server process.
"""

import logging
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from mcpbridge.models import McpSession
from mcpbridge.server.errors import tenant_error
from tenants.limits import Limit
from tenants.models import Tenant
from tenants.models.audit import AuditOutcome
from tenants.policy import Principal

logger = logging.getLogger(__name__)


@dataclass(eq=False)
class LiveSession:
    record_id: str
    transport: str
    raw_key: str
    tenant_id: str
    api_key_id: str
    protocol_version: str
    transport_session_id: str = ""
    # Sends notifications/tools/list_changed to this session's client; None when it cannot receive one.
    notify_tools_changed: Callable[[], Awaitable[None]] | None = None
    close: Callable[[], Awaitable[None]] | None = None
    visible: frozenset[str] | None = None
    last_seen: float = field(default_factory=time.monotonic)
    unflushed_requests: int = 0
    end_reason: str = ""

    def touch(self) -> None:
        self.last_seen = time.monotonic()
        self.unflushed_requests += 1

    @property
    def ended(self) -> bool:
        return bool(self.end_reason)


class SessionRegistry:
    def __init__(self, *, transport: str, idle_seconds: int):
        self.transport = transport
        self.idle_seconds = idle_seconds
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
    ) -> LiveSession:
        """Record a new session, unless the tenant already has as many open sessions as its plan allows.

        Counting and inserting happen under one lock on the tenant, so processes opening sessions at the same
        time take turns and the tenant never ends above its limit: PostgreSQL locks the tenant row (SELECT ...
        FOR UPDATE); SQLite transactions here begin IMMEDIATE, which takes the database's write lock up front.
        """
        maximum = principal.limits[Limit.MAX_MCP_SESSIONS]
        with transaction.atomic():
            list(Tenant.objects.select_for_update().filter(pk=principal.tenant_id).order_by().values_list("pk"))
            if open_session_count(principal.tenant_id, self.idle_seconds) >= maximum:
                raise tenant_error(
                    "max_sessions",
                    f"This tenant already has {maximum} open MCP sessions, its limit; close one or wait for it to "
                    "expire.",
                    AuditOutcome.DENIED,
                    limit=Limit.MAX_MCP_SESSIONS,
                    max=maximum,
                )
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
        live = LiveSession(
            record_id=str(record.pk),
            transport=self.transport,
            raw_key=raw_key,
            tenant_id=principal.tenant_id,
            api_key_id=principal.api_key_id,
            protocol_version=protocol_version,
            transport_session_id=transport_session_id,
        )
        with self._lock:
            self._live[live.record_id] = live
        return live

    def live(self) -> list[LiveSession]:
        with self._lock:
            return list(self._live.values())

    def forget(self, live: LiveSession) -> None:
        with self._lock:
            self._live.pop(live.record_id, None)

    def flush(self) -> None:
        """Write request counts and last-seen times; write the end of sessions that ended here."""
        now = timezone.now()
        for live in self.live():
            count, live.unflushed_requests = live.unflushed_requests, 0
            if count:
                McpSession.objects.filter(pk=live.record_id).update(
                    request_count=F("request_count") + count, last_seen_at=now
                )

    def end(self, live: LiveSession, reason: str) -> None:
        live.end_reason = live.end_reason or reason
        McpSession.objects.filter(pk=live.record_id, ended_at__isnull=True).update(
            ended_at=timezone.now(), end_reason=reason
        )
        self.forget(live)

    def ended_elsewhere(self) -> list[LiveSession]:
        """Live sessions whose row was ended outside this process (an admin revoked them)."""
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
            found.append(live)
        return found

    def idle(self) -> list[LiveSession]:
        cutoff = time.monotonic() - self.idle_seconds
        return [live for live in self.live() if live.last_seen < cutoff]

    def end_all(self, reason: str) -> None:
        for live in self.live():
            self.end(live, reason)


def open_session_count(tenant_id: str, idle_seconds: int) -> int:
    fresh = timezone.now() - timedelta(seconds=idle_seconds)
    return McpSession.objects.filter(tenant_id=tenant_id, ended_at__isnull=True, last_seen_at__gte=fresh).count()


def end_stale_sessions(idle_seconds: int) -> int:
    """End rows left open by processes that died: nothing has been seen of them for the idle period."""
    cutoff = timezone.now() - timedelta(seconds=idle_seconds)
    return McpSession.objects.filter(ended_at__isnull=True, last_seen_at__lt=cutoff).update(
        ended_at=timezone.now(), end_reason=McpSession.EndReason.IDLE
    )
