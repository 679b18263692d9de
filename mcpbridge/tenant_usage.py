"""Reads behind the tenant page: usage against every limit in force, 30 days of calls and storage, sessions, audit."""

import datetime
from dataclasses import dataclass

from django.db.models import Count, Q
from django.db.models.functions import TruncDate
from django.utils import timezone

from mcpbridge.models import McpSession, QuotaUsage
from mcpbridge.overview import NEAR_LIMIT_RATIO, RATE_WINDOW
from mcpbridge.services.quotas import GAUGES, MONTHLY, QUOTAS
from tenants.limits import Limit
from tenants.models import AuditEvent, Tenant, UsageCounter
from tenants.models.audit import AuditAction, AuditOutcome
from tenants.selectors import tenant_effective_limits

CHART_DAYS = 30
BYTE_LIMITS = (Limit.STORAGE_BYTES, Limit.MAX_ARTIFACT_BYTES, Limit.MAX_KV_VALUE_BYTES)


@dataclass(frozen=True)
class QuotaBar:
    limit: str
    label: str
    maximum: int
    overridden: bool
    # None where the platform keeps no running total of this limit (sizes per item, per-second AWS budgets).
    used: int | None

    @property
    def percent(self) -> int:
        if self.used is None:
            return 0
        if not self.maximum:
            return 100 if self.used else 0
        return min(100, round(100 * self.used / self.maximum))

    @property
    def in_bytes(self) -> bool:
        return self.limit in BYTE_LIMITS

    @property
    def near(self) -> bool:
        return self.used is not None and self.used > 0 and self.used >= self.maximum * NEAR_LIMIT_RATIO


def tenant_quota_bars(*, tenant: Tenant) -> list[QuotaBar]:
    """Used / limit for every limit in force (plan with overrides). Quotas come from the quota counters,
    requests per minute from the last minute's tool calls, MCP sessions from the open sessions."""
    used = tenant_usage_levels(tenant=tenant)
    return [
        QuotaBar(limit=e.limit, label=e.label, maximum=e.value, overridden=e.overridden, used=used.get(e.limit))
        for e in tenant_effective_limits(tenant=tenant)
    ]


def tenant_usage_levels(*, tenant: Tenant) -> dict[str, int]:
    month = timezone.now().strftime("%Y-%m")
    levels = {limit: 0 for limit in QUOTAS}
    levels.update(
        QuotaUsage.objects.filter(tenant=tenant)
        .filter(Q(metric__in=GAUGES, period="") | Q(metric__in=MONTHLY, period=month))
        .values_list("metric", "used")
    )
    levels[Limit.REQUESTS_PER_MINUTE] = AuditEvent.objects.filter(
        tenant=tenant, action=AuditAction.TOOL_CALL, created_at__gte=timezone.now() - RATE_WINDOW
    ).count()
    levels[Limit.MAX_MCP_SESSIONS] = McpSession.objects.filter(tenant=tenant, ended_at__isnull=True).count()
    return levels


def chart_days(*, days: int = CHART_DAYS) -> list[datetime.date]:
    today = timezone.now().date()
    return [today - datetime.timedelta(days=n) for n in range(days - 1, -1, -1)]


def tenant_tool_calls_per_day(*, tenant: Tenant, days: int = CHART_DAYS) -> dict[str, list[int]]:
    """{outcome: [calls per day, oldest first]} for the last `days` days (UTC), from the tenant's audit events."""
    axis = chart_days(days=days)
    since = datetime.datetime.combine(axis[0], datetime.time.min, tzinfo=datetime.timezone.utc)
    rows = (
        AuditEvent.objects.filter(tenant=tenant, action=AuditAction.TOOL_CALL, created_at__gte=since)
        .order_by()
        .annotate(day=TruncDate("created_at", tzinfo=datetime.timezone.utc))
        .values_list("day", "outcome")
        .annotate(n=Count("id"))
    )
    index = {day: i for i, day in enumerate(axis)}
    series: dict[str, list[int]] = {}
    for day, outcome, n in rows:
        if day in index:
            series.setdefault(outcome, [0] * len(axis))[index[day]] = n
    return {outcome: series[outcome] for outcome in AuditOutcome.values if outcome in series}


def tenant_storage_per_day(*, tenant: Tenant, days: int = CHART_DAYS) -> list[int]:
    """Artifact storage in use at the end of each of the last `days` days (today: now). Days without a change
    carry the level of the day before."""
    axis = chart_days(days=days)
    levels = dict(
        UsageCounter.objects.filter(tenant=tenant, metric=Limit.STORAGE_BYTES, day__gte=axis[0]).values_list("day", "value")
    )
    before = (
        UsageCounter.objects.filter(tenant=tenant, metric=Limit.STORAGE_BYTES, day__lt=axis[0])
        .order_by("-day")
        .values_list("value", flat=True)
        .first()
    )
    level, series = before or 0, []
    for day in axis:
        level = levels.get(day, level)
        series.append(level)
    series[-1] = tenant_storage_used(tenant=tenant)
    return series


def tenant_storage_used(*, tenant: Tenant) -> int:
    return (
        QuotaUsage.objects.filter(tenant=tenant, metric=Limit.STORAGE_BYTES, period="").values_list("used", flat=True).first()
        or 0
    )


def tenant_open_sessions(*, tenant: Tenant, top: int = 20):
    return (
        McpSession.objects.filter(tenant=tenant, ended_at__isnull=True)
        .select_related("membership__user", "api_key")
        .order_by("-last_seen_at")[:top]
    )


def tenant_latest_audit(*, tenant: Tenant, top: int = 15):
    return AuditEvent.objects.filter(tenant=tenant).order_by("-created_at", "-id")[:top]
