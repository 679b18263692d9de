"""Reads with a rule in them, shared by the admin, the APIs and the operations endpoints."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Min
from django.utils import timezone

from mcpbridge.models import McpSession, OutboxEvent
from mcpbridge.models.outbox import OutboxStatus


@dataclass(frozen=True)
class OutboxBacklog:
    pending: int
    parked: int
    oldest_pending_at: datetime | None

    @property
    def oldest_pending_age_seconds(self) -> float:
        if self.oldest_pending_at is None:
            return 0.0
        return max(0.0, (timezone.now() - self.oldest_pending_at).total_seconds())


def outbox_backlog() -> OutboxBacklog:
    """Events accepted but not delivered yet (pending), and those given up on until someone retries them (parked)."""
    counts = dict(
        OutboxEvent.objects.filter(status__in=[OutboxStatus.PENDING, OutboxStatus.PARKED])
        .order_by()
        .values_list("status")
        .annotate(n=Count("seq"))
    )
    oldest = (
        OutboxEvent.objects.filter(status=OutboxStatus.PENDING).order_by().aggregate(oldest=Min("created_at"))["oldest"]
    )
    return OutboxBacklog(
        pending=counts.get(OutboxStatus.PENDING, 0), parked=counts.get(OutboxStatus.PARKED, 0), oldest_pending_at=oldest
    )


def open_sessions_by_transport() -> dict[str, int]:
    """MCP sessions not ended yet, per transport (across every server process: the rows are the truth)."""
    return dict(
        McpSession.objects.filter(ended_at__isnull=True)
        .order_by()
        .values_list("transport")
        .annotate(n=Count("pk"))
    )
