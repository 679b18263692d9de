"""Reads behind the operator overview and the tenant page: what counts as busy, near a limit, a refusal, open.

Every read here is one query whatever the number of tenants (bounded rows, aggregated in the database), so the
overview stays one screen and a fixed number of queries at 10,000 tenants and millions of audit rows.
"""

import datetime
from dataclasses import dataclass
from fractions import Fraction

from django.db.models import Count, F, FloatField, Q, Sum, TextField, Value
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, Coalesce, NullIf, TruncDate
from django.utils import timezone

from mcpbridge.models import McpSession, QuotaUsage
from mcpbridge.server.telemetry import METRIC_TOOL_CALLS, METRIC_TOOL_REFUSED
from mcpbridge.services.quotas import GAUGES, MONTHLY, QUOTAS
from tenants.limits import Limit
from tenants.models import AuditEvent, Tenant, UsageCounter
from tenants.models.audit import AuditAction, AuditOutcome
from tenants.models.tenants import TenantStatus
from tenants.selectors import tenant_effective_limits, with_effective_limit

# A tenant is "near" a limit from this share of it on (a fraction, so queries compare integers: used * 5 >= limit * 4).
NEAR_LIMIT_RATIO = Fraction(4, 5)
# Outcomes that mean the platform said no (errors are failures, not refusals).
REFUSALS = (AuditOutcome.DENIED, AuditOutcome.RATE_LIMITED, AuditOutcome.QUOTA_EXCEEDED, AuditOutcome.INVALID)
RATE_WINDOW = datetime.timedelta(minutes=1)
REFUSAL_WINDOW = datetime.timedelta(hours=1)
CHART_DAYS = 30
BYTE_LIMITS = (Limit.STORAGE_BYTES, Limit.MAX_ARTIFACT_BYTES, Limit.MAX_KV_VALUE_BYTES)


def tenants_by_status() -> dict[str, int]:
    counts = dict(Tenant.objects.order_by().values_list("status").annotate(n=Count("pk")))
    return {status: counts.get(status, 0) for status in TenantStatus.values}


@dataclass(frozen=True)
class TenantActivity:
    tenant_id: str
    slug: str
    calls: int
    refused: int

    @property
    def total(self) -> int:
        return self.calls + self.refused


def busiest_tenants_today(*, top: int = 10) -> list[TenantActivity]:
    """Tenants with the most tool calls today (UTC), refused ones included, from the daily usage counters."""
    rows = (
        UsageCounter.objects.filter(day=timezone.now().date(), metric__in=(METRIC_TOOL_CALLS, METRIC_TOOL_REFUSED))
        .order_by()
        .values("tenant_id", "tenant__slug")
        .annotate(
            calls=Coalesce(Sum("value", filter=Q(metric=METRIC_TOOL_CALLS)), 0),
            refused=Coalesce(Sum("value", filter=Q(metric=METRIC_TOOL_REFUSED)), 0),
            total=Sum("value"),
        )
        .order_by("-total", "tenant__slug")[:top]
    )
    return [TenantActivity(str(r["tenant_id"]), r["tenant__slug"], r["calls"], r["refused"]) for r in rows]


@dataclass(frozen=True)
class LimitPressure:
    """One tenant close to (or at) one limit. `refusals` counts recent refusals at a rate budget, where the
    running level lives in the limiter rather than the database."""

    tenant_id: str
    slug: str
    limit: str
    used: int | None
    maximum: int | None
    refusals: int = 0

    @property
    def label(self) -> str:
        return Limit(self.limit).label if self.limit in Limit.values else self.limit

    @property
    def percent(self) -> int:
        if self.used is None or not self.maximum:
            return 100
        return round(100 * self.used / self.maximum)


def tenants_near_limit(*, top: int = 25) -> list[LimitPressure]:
    """Tenants at ≥ 80 % of a quota (storage, KV items, secrets, events this month), of their requests per
    minute (tool calls in the last minute), or refused by any rate budget in the last hour; fullest first."""
    pressures = _quota_pressure(top) + _request_rate_pressure(top) + _rate_refusals(top)
    pressures.sort(key=lambda p: (-p.percent, -p.refusals, p.slug, p.limit))
    return pressures[:top]


def _ratio(used: str, maximum: str):
    return Cast(used, FloatField()) / NullIf(Cast(maximum, FloatField()), Value(0.0))


def _quota_pressure(top: int) -> list[LimitPressure]:
    month = timezone.now().strftime("%Y-%m")
    current = QuotaUsage.objects.filter(Q(metric__in=GAUGES, period="") | Q(metric__in=MONTHLY, period=month), used__gt=0)
    rows = (
        with_effective_limit(current, limit_field="metric", limits=QUOTAS)
        .alias(scaled_used=F("used") * NEAR_LIMIT_RATIO.denominator)
        .filter(scaled_used__gte=F("effective_limit") * NEAR_LIMIT_RATIO.numerator)
        .annotate(ratio=_ratio("used", "effective_limit"))
        .order_by(F("ratio").desc(nulls_first=True), "tenant__slug")
        .values_list("tenant_id", "tenant__slug", "metric", "used", "effective_limit")[:top]
    )
    return [LimitPressure(str(t), slug, metric, used, maximum) for t, slug, metric, used, maximum in rows]


def _request_rate_pressure(top: int) -> list[LimitPressure]:
    recent_calls = AuditEvent.objects.filter(
        created_at__gte=timezone.now() - RATE_WINDOW, action=AuditAction.TOOL_CALL, tenant__isnull=False
    )
    rows = (
        with_effective_limit(recent_calls, limit_name=Limit.REQUESTS_PER_MINUTE)
        .order_by()
        .values("tenant_id", "tenant__slug", "effective_limit")
        .annotate(calls=Count("id"))
        .alias(scaled_calls=Count("id") * NEAR_LIMIT_RATIO.denominator)
        .filter(scaled_calls__gte=F("effective_limit") * NEAR_LIMIT_RATIO.numerator)
        .order_by("-calls")[:top]
    )
    return [
        LimitPressure(str(r["tenant_id"]), r["tenant__slug"], Limit.REQUESTS_PER_MINUTE, r["calls"], r["effective_limit"])
        for r in rows
    ]


def _rate_refusals(top: int) -> list[LimitPressure]:
    rows = (
        AuditEvent.objects.filter(
            created_at__gte=timezone.now() - REFUSAL_WINDOW, outcome=AuditOutcome.RATE_LIMITED, tenant__isnull=False
        )
        .order_by()
        .values("tenant_id", "tenant__slug", limit=Coalesce(KT("details__limit"), Value(""), output_field=TextField()))
        .annotate(n=Count("id"))
        .order_by("-n")[:top]
    )
    return [LimitPressure(str(r["tenant_id"]), r["tenant__slug"], r["limit"], None, None, r["n"]) for r in rows]


@dataclass(frozen=True)
class RefusalCount:
    outcome: str
    reason: str
    count: int

    @property
    def outcome_label(self) -> str:
        return AuditOutcome(self.outcome).label


def refusals_by_reason(*, window: datetime.timedelta = REFUSAL_WINDOW) -> list[RefusalCount]:
    """Refusals of the last hour (every channel: tool calls, APIs, logins), by outcome and the reason or limit
    the refusal named."""
    rows = (
        AuditEvent.objects.filter(created_at__gte=timezone.now() - window, outcome__in=REFUSALS)
        .order_by()
        .values("outcome", reason=Coalesce(KT("details__reason"), KT("details__limit"), Value(""), output_field=TextField()))
        .annotate(n=Count("id"))
        .order_by("-n", "outcome")
    )
    return [RefusalCount(r["outcome"], r["reason"], r["n"]) for r in rows]


# The tenant page.


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
