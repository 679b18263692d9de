from django.db import connections
from django.db.models import F

from controlplane.database import DATABASE_UNAVAILABLE
from tenants.models.policy_state import PolicyState

# Read on every key resolution (every MCP call, every decision), so it is plain SQL composed once instead of a
# queryset: compiling the queryset cost ten times the query itself on SQLite (about 0.3 ms a call). Built lazily per database alias: names are only final once the app registry is ready.
_VERSION_SQL: dict[str, str] = {}


def policy_version() -> int:
    db = PolicyState.objects.db
    connection = connections[db]
    sql = _VERSION_SQL.get(db)
    if sql is None:
        quote, meta = connection.ops.quote_name, PolicyState._meta
        sql = _VERSION_SQL[db] = (
            f"SELECT {quote(meta.get_field('version').column)} FROM {quote(meta.db_table)} "
            f"WHERE {quote(meta.pk.column)} = 1"
        )
    if (
        connection.connection is not None
        and connection.health_check_enabled
        and not connection.health_check_done
        and not connection.in_atomic_block
    ):
        # The first query of a unit of work on a kept connection (a governed call starts with this read): it
        # stands in for the health check's own "SELECT 1", one round trip instead of two on every call. A
        # connection the database dropped fails it and is replaced, once, as the health check would have done.
        connection.health_check_done = True
        try:
            return _read(connection, sql)
        except DATABASE_UNAVAILABLE:
            connection.close()
    return _read(connection, sql)


def _read(connection, sql: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql)
        row = cursor.fetchone()
    if row is None:
        PolicyState.objects.get_or_create(pk=1)
        return 0
    return row[0]


async def apolicy_version() -> int:
    version = await PolicyState.objects.filter(pk=1).values_list("version", flat=True).afirst()
    return version or 0


def policy_version_bump() -> None:
    if not PolicyState.objects.filter(pk=1).update(version=F("version") + 1):
        PolicyState.objects.get_or_create(pk=1, defaults={"version": 1})
