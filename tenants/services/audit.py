from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

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
    """Append many events in one statement: each dict holds audit_record's keyword arguments."""
    return len(AuditEvent.objects.bulk_create([_event(**event) for event in events], batch_size=500))


def _event(
    *,
    actor: Actor,
    target: str,
    tenant_id=None,
    outcome: str = AuditOutcome.OK,
    action: str | None = None,
    latency_ms: float | None = None,
    details: dict | None = None,
) -> AuditEvent:
    safe_details = {k: v for k, v in (details or {}).items() if k not in _REDACTED_KEYS}
    return AuditEvent(
        actor=actor.label[:200],
        actor_user_id=actor.user_id,
        tenant_id=tenant_id,
        action=action or actor.channel,
        target=target[:300],
        outcome=outcome,
        latency_ms=latency_ms,
        request_id=actor.request_id[:64],
        details=safe_details,
    )
