"""Tenant events: accepted into the outbox in the caller's transaction, delivered to EventBridge by a task."""

import json
import unicodedata
import uuid

from django.conf import settings
from django.utils import timezone

from controlplane.database import certain_write
from mcpbridge.models import OutboxEvent
from mcpbridge.services.errors import InvalidInput
from mcpbridge.services.outbox import outbox_enqueue
from mcpbridge.services.quotas import quota_reserve
from mcpbridge.services.validation import DETAIL_TYPE_MAX_CHARS, EVENT_ENTRY_MAX_BYTES, require
from tenants.capabilities import Capability
from tenants.limits import Limit


def _detail_type(value) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput("detail_type must be a non-empty string.", argument="detail_type")
    if len(value) > DETAIL_TYPE_MAX_CHARS:
        raise InvalidInput(f"detail_type is limited to {DETAIL_TYPE_MAX_CHARS} characters.", argument="detail_type")
    if any(unicodedata.category(ch) in ("Cc", "Cs") for ch in value):
        raise InvalidInput("detail_type must not contain control characters.", argument="detail_type")
    return value


def event_envelope(principal, event_id: str, detail: dict) -> dict:
    """What consumers receive: the tenant and the context travel with every event."""
    return {
        "eventId": event_id,
        "tenantId": principal.tenant_id,
        "tenantSlug": principal.tenant_slug,
        "context": {"kind": principal.context.kind, "orgId": principal.context.org_id, "orgSlug": principal.context.org_slug},
        "namespace": principal.namespace,
        "userId": principal.user_id,
        "sentAt": timezone.now().isoformat(),
        "data": detail,
    }


def event_send(*, principal, detail_type: str, detail: dict) -> dict:
    require(principal, Capability.EVENTS_SEND)
    detail_type = _detail_type(detail_type)
    if not isinstance(detail, dict):
        raise InvalidInput("detail must be a JSON object.", argument="detail")
    event_id = str(uuid.uuid4())
    envelope = event_envelope(principal, event_id, detail)
    try:
        encoded = json.dumps(envelope, allow_nan=False, separators=(",", ":"))
        encoded.encode("utf-8")
    except (TypeError, ValueError):
        raise InvalidInput("detail must contain only JSON values (no NaN, no binary, valid Unicode).", argument="detail") from None
    source = settings.EVENTS_TENANT_SOURCE
    size = len(source.encode()) + len(detail_type.encode()) + len(encoded.encode())
    if size > EVENT_ENTRY_MAX_BYTES:
        raise InvalidInput(
            f"The event would be {size} bytes; EventBridge accepts at most {EVENT_ENTRY_MAX_BYTES}.", argument="detail"
        )
    # The outbox is in the database whatever the event bus: the count and the event commit together.
    with certain_write(lambda: OutboxEvent.objects.filter(event_id=event_id).exists()):
        quota_reserve(
            tenant_id=principal.tenant_id,
            limit=Limit.EVENTS_PER_MONTH,
            amount=1,
            maximum=principal.limits[Limit.EVENTS_PER_MONTH],
        )
        outbox_enqueue(
            tenant_id=principal.tenant_id,
            bus=OutboxEvent.Bus.TENANT,
            source=source,
            detail_type=detail_type,
            detail=envelope,
            event_id=event_id,
        )
    return {"event_id": event_id, "status": "queued"}
