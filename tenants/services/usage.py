import datetime

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from tenants.models import UsageCounter


def usage_increment(*, tenant_id, metric: str, amount: int = 1, day: datetime.date | None = None) -> None:
    """Add `amount` to the tenant's counter for `metric` on `day` (today, UTC), atomically."""
    day = day or timezone.now().date()
    updated = UsageCounter.objects.filter(tenant_id=tenant_id, metric=metric, day=day).update(
        value=F("value") + amount
    )
    if updated:
        return
    try:
        with transaction.atomic():
            UsageCounter.objects.create(tenant_id=tenant_id, metric=metric, day=day, value=amount)
    except IntegrityError:
        # Another writer created the row between our update and insert.
        UsageCounter.objects.filter(tenant_id=tenant_id, metric=metric, day=day).update(value=F("value") + amount)


def usage_record_level(*, tenant_id, metric: str, value: int, day: datetime.date | None = None) -> None:
    """Set the tenant's level of `metric` on `day` (today, UTC), e.g. storage in use: the day's last value wins."""
    day = day or timezone.now().date()
    if UsageCounter.objects.filter(tenant_id=tenant_id, metric=metric, day=day).update(value=value):
        return
    try:
        with transaction.atomic():
            UsageCounter.objects.create(tenant_id=tenant_id, metric=metric, day=day, value=value)
    except IntegrityError:
        UsageCounter.objects.filter(tenant_id=tenant_id, metric=metric, day=day).update(value=value)
