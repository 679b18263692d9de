"""Reads behind the operator overview and the tenant page: what counts as busy, near a limit, a refusal, open.

Every read here is one query whatever the number of tenants (bounded rows, aggregated in the database), so the
overview stays one screen and a fixed number of queries at 10,000 tenants and millions of audit rows.
"""

import datetime
from dataclasses import dataclass
from fractions import Fraction

from django.db.models import Count, F, FloatField, Q, Sum, TextField, Value
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, Coalesce, NullIf
from django.utils import timezone

from mcpbridge.models import QuotaUsage
from mcpbridge.server.telemetry import METRIC_TOOL_CALLS, METRIC_TOOL_REFUSED
from mcpbridge.services.quotas import GAUGES, MONTHLY, QUOTAS
from tenants.limits import Limit
from tenants.models import AuditEvent, Tenant, UsageCounter
from tenants.models.audit import AuditAction, AuditOutcome
from tenants.models.tenants import TenantStatus
from tenants.selectors import with_effective_limit

# A tenant is "near" a limit from this share of it on (a fraction, so queries compare integers: used * 5 >= limit * 4).
NEAR_LIMIT_RATIO = Fraction(4, 5)
# Outcomes that mean the platform said no (errors are failures, not refusals).
REFUSALS = (AuditOutcome.DENIED, AuditOutcome.RATE_LIMITED, AuditOutcome.QUOTA_EXCEEDED, AuditOutcome.INVALID)
RATE_WINDOW = datetime.timedelta(minutes=1)
REFUSAL_WINDOW = datetime.timedelta(hours=1)


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
        .annotate(n=Sum("count"))
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
        .annotate(n=Sum("count"))  # a refusal row can stand for many (aggregated per minute and source)
        .order_by("-n", "outcome")
    )
    return [RefusalCount(r["outcome"], r["reason"], r["n"]) for r in rows]
