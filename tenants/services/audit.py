from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.db import connections, router, transaction
from django.utils import timezone

from tenants.models import AuditEvent
from tenants.models.audit import AuditOutcome
from tenants.services.actors import Actor

_captured: ContextVar[list[AuditEvent] | None] = ContextVar("audit_captured", default=None)

# Keys never copied into audit details, whatever a caller passes.
_REDACTED_KEYS = frozenset({"value", "secret", "content", "raw_key", "password", "token", "data", "detail"})


def audit_record(
    *,
    actor: Actor,
    target: str,
    tenant_id=None,
    outcome: str = AuditOutcome.OK,
    action: str | None = None,
    latency_ms: float | None = None,
    details: dict | None = None,
) -> AuditEvent:
    event = _event(
        actor=actor,
        target=target,
        tenant_id=tenant_id,
        outcome=outcome,
        action=action,
        latency_ms=latency_ms,
        details=details,
    )
    event.save()
    captured = _captured.get()
    if captured is not None:
        captured.append(event)
    return event


@contextmanager
def audit_capture() -> Iterator[list[AuditEvent]]:
    """Collect the events audit_record appends inside the block (an adapter names them in its own log)."""
    events: list[AuditEvent] = []
    token = _captured.set(events)
    try:
        yield events
    finally:
        _captured.reset(token)


def audit_record_many(events: Iterable[dict]) -> int:
    """Append many events in one executemany: each dict holds audit_record's keyword arguments.

    Every governed call ends up here (batched), so rows go straight from the events to the driver: building a
    model instance per row and compiling bulk_create's statement cost more than the rows themselves. The
    values still go through each field's own database preparation, so they are stored exactly as save() would.
    """
    db = router.db_for_write(AuditEvent)
    connection = connections[db]
    field = AuditEvent._meta.get_field
    # The same for every row of the batch: prepared once.
    created_at = field("created_at").get_db_prep_value(timezone.now(), connection)
    tenant_field, tenants = field("tenant"), {None: None}

    def tenant(tenant_id):
        if tenant_id not in tenants:
            tenants[tenant_id] = tenant_field.get_db_prep_value(tenant_id, connection)
        return tenants[tenant_id]

    rows = [_row(connection, created_at, tenant, **event) for event in events]
    if rows:
        with transaction.atomic(using=db, savepoint=False), connection.cursor() as cursor:
            cursor.executemany(_insert_sql(connection), rows)
    return len(rows)


_DETAILS = AuditEvent._meta.get_field("details")
# Written by audit_record_many, in this order; the primary key is the database's to assign.
_INSERT_FIELDS = ("created_at", "actor", "actor_user", "tenant", "action", "target", "outcome", "latency_ms",
                  "request_id", "details", "count", "bucket")
_insert_sql_by_alias: dict[str, str] = {}


def _insert_sql(connection) -> str:
    sql = _insert_sql_by_alias.get(connection.alias)
    if sql is None:
        quote, meta = connection.ops.quote_name, AuditEvent._meta
        columns = ", ".join(quote(meta.get_field(name).column) for name in _INSERT_FIELDS)
        placeholders = ", ".join(["%s"] * len(_INSERT_FIELDS))
        sql = _insert_sql_by_alias[connection.alias] = (
            f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES ({placeholders})"
        )
    return sql


def _row(connection, created_at, tenant, **event) -> tuple:
    values = _values(**event)
    return (
        created_at,
        values["actor"],
        values["actor_user_id"],
        tenant(values["tenant_id"]),
        values["action"],
        values["target"],
        values["outcome"],
        values["latency_ms"],
        values["request_id"],
        _DETAILS.get_db_prep_value(values["details"], connection),
        1,
        None,
    )


def _event(**event) -> AuditEvent:
    return AuditEvent(**_values(**event))


def _values(
    *,
    actor: Actor,
    target: str,
    tenant_id=None,
    outcome: str = AuditOutcome.OK,
    action: str | None = None,
    latency_ms: float | None = None,
    details: dict | None = None,
) -> dict:
    """An audit event's stored values from audit_record's arguments: lengths cut to the columns, secrets left out."""
    return {
        "actor": actor.label[:200],
        "actor_user_id": actor.user_id,
        "tenant_id": tenant_id,
        "action": action or actor.channel,
        "target": target[:300],
        "outcome": outcome,
        "latency_ms": latency_ms,
        "request_id": actor.request_id[:64],
        "details": {k: v for k, v in (details or {}).items() if k not in _REDACTED_KEYS},
    }
