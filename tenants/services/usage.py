import datetime

from django.db import IntegrityError, connections, router, transaction
from django.db.models import F
from django.utils import timezone

from tenants.models import UsageCounter


def usage_increment(*, tenant_id, metric: str, amount: int = 1, day: datetime.date | None = None) -> None:
    """Add `amount` to the tenant's counter for `metric` on `day` (today, UTC), atomically."""
    day = day or timezone.now().date()
    if _add_to_counter(tenant_id, metric, day, amount):
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


# The MCP server's background loop adds its calls to the counters every half second: plain SQL composed once per
# database alias, as compiling the equivalent queryset cost several times the statement itself.
_ADD_SQL: dict[str, str] = {}


def _add_to_counter(tenant_id, metric: str, day: datetime.date, amount: int) -> bool:
    """UPDATE the counter row by `amount`; False when the row does not exist yet."""
    db = router.db_for_write(UsageCounter)
    connection = connections[db]
    field = UsageCounter._meta.get_field
    sql = _ADD_SQL.get(db)
    if sql is None:
        quote = connection.ops.quote_name
        value, tenant, metric_column, day_column = (
            quote(field(name).column) for name in ("value", "tenant", "metric", "day")
        )
        sql = _ADD_SQL[db] = (
            f"UPDATE {quote(UsageCounter._meta.db_table)} SET {value} = {value} + %s "
            f"WHERE {tenant} = %s AND {metric_column} = %s AND {day_column} = %s"
        )
    params = (
        amount,
        field("tenant").get_db_prep_value(tenant_id, connection),
        metric,
        field("day").get_db_prep_value(day, connection),
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount > 0
