"""Quota usage, reserved atomically before data is written and released when it is not.

A reservation is one conditional UPDATE (used + n <= max), so concurrent writers cannot pass the
maximum: on PostgreSQL the second writer waits for the row lock and re-checks the condition.
"""

from django.db.models import F
from django.db.models.functions import Greatest
from django.utils import timezone

from mcpbridge.models import QuotaUsage
from mcpbridge.services.errors import QuotaExceeded
from tenants.limits import Limit
from tenants.services import usage_record_level

GAUGES = (Limit.STORAGE_BYTES, Limit.KV_ITEMS, Limit.SECRETS_COUNT)
MONTHLY = (Limit.EVENTS_PER_MONTH,)
QUOTAS = (*GAUGES, *MONTHLY)
# Gauges whose level is also kept per day (usage counter of the same name), for the tenant page's history chart.
# Storage only: KV and secrets writes are frequent and small, and an extra write each would cost more than it shows.
HISTORY_GAUGES = (Limit.STORAGE_BYTES,)


def _period(limit: str) -> str:
    return timezone.now().strftime("%Y-%m") if limit in MONTHLY else ""


def _row(tenant_id, limit: str):
    return QuotaUsage.objects.filter(tenant_id=tenant_id, metric=limit, period=_period(limit))


def quota_used(*, tenant_id, limit: str) -> int:
    return _row(tenant_id, limit).values_list("used", flat=True).first() or 0


def quota_reserve(*, tenant_id, limit: str, amount: int, maximum: int) -> None:
    """Count `amount` more against the quota, or raise QuotaExceeded and count nothing."""
    if amount <= 0:
        return
    QuotaUsage.objects.get_or_create(tenant_id=tenant_id, metric=limit, period=_period(limit))
    if not _row(tenant_id, limit).filter(used__lte=maximum - amount).update(used=F("used") + amount):
        raise QuotaExceeded(limit, quota_used(tenant_id=tenant_id, limit=limit), maximum, requested=amount)
    _record_history(tenant_id, limit)


def quota_release(*, tenant_id, limit: str, amount: int) -> None:
    if amount > 0:
        _row(tenant_id, limit).update(used=Greatest(F("used") - amount, 0))
        _record_history(tenant_id, limit)


def quota_set(*, tenant_id, limit: str, used: int) -> None:
    """Replace the usage with a value recomputed from the backend (reconciliation)."""
    QuotaUsage.objects.update_or_create(
        tenant_id=tenant_id, metric=limit, period=_period(limit), defaults={"used": used, "reconciled_at": timezone.now()}
    )
    _record_history(tenant_id, limit)


def _record_history(tenant_id, limit: str) -> None:
    if limit in HISTORY_GAUGES:
        usage_record_level(tenant_id=tenant_id, metric=limit, value=quota_used(tenant_id=tenant_id, limit=limit))


def quota_status(*, principal) -> dict:
    """{limit: {"used", "max"}} for every quota of the principal's tenant (all contexts together)."""
    rows = dict(
        QuotaUsage.objects.filter(tenant_id=principal.tenant_id, metric__in=GAUGES, period="").values_list("metric", "used")
    )
    month = timezone.now().strftime("%Y-%m")
    rows.update(
        QuotaUsage.objects.filter(tenant_id=principal.tenant_id, metric__in=MONTHLY, period=month).values_list("metric", "used")
    )
    return {str(limit): {"used": int(rows.get(limit, 0)), "max": int(principal.limits[limit])} for limit in QUOTAS}
