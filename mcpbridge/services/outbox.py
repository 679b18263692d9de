"""The event outbox: rows written in the producer's transaction, drained to the bus by a task.

Delivery is at least once with a stable event id. Per tenant, entries go out in `seq` order: an
entry waiting for a retry (or claimed by another drainer) holds back the later entries of its
tenant. Entries the bus rejects are retried with backoff and parked after EVENTS_OUTBOX_MAX_ATTEMPTS;
a bus that cannot be reached at all only delays delivery, it never parks anything.

With a broker, a Celery task drains after each commit. Without one (the embedded default) a serving process
runs `embedded_drainer`, a background loop the commit only wakes; elsewhere (commands, a shell) the task
runs eagerly in-process as before.
"""

import json
import logging
import random
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import F, Min
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from controlplane.outages import STORE_ERRORS, cache_outage
from mcpbridge.dataplane import data_plane
from mcpbridge.dataplane.ports import BackendError, BusEntry, EntryResult
from mcpbridge.models import OutboxEvent
from mcpbridge.services.drain_loop import DrainLoop
from mcpbridge.services.jobs import enqueue_on_commit
from tenants.services import Actor, audit_record

logger = logging.getLogger(__name__)

PUT_EVENTS_MAX_ENTRIES = 10
DRAIN_TASK = "mcpbridge.tasks.drain_outbox"
# Per-entry error codes that mean "try again later" rather than "this entry is bad".
TRANSIENT_ENTRY_ERRORS = frozenset({"ThrottlingException", "InternalFailure", "InternalException", "ServiceUnavailable"})
_PAUSE_KEY = "mcpbridge:outbox:bus-paused"


@dataclass
class DrainReport:
    calls: int = 0
    delivered: int = 0
    failed: int = 0
    parked: int = 0
    outage: bool = False


def outbox_enqueue(*, tenant_id, bus: str, source: str, detail_type: str, detail: dict, event_id=None) -> OutboxEvent:
    """Accept an event in the caller's transaction; the drain is queued for after the commit."""
    event_id = str(event_id or uuid.uuid4())
    # Consumers deduplicate on detail.eventId (EventBridge assigns its own id to every delivery).
    detail = {**detail, "eventId": event_id}
    event = OutboxEvent.objects.create(
        event_id=event_id,
        tenant_id=tenant_id,
        bus=bus,
        source=source,
        detail_type=detail_type,
        detail=detail,
    )
    _drain_after_commit()
    return event


def outbox_retry(*, events, actor: Actor) -> int:
    """Put parked entries back in line (admin action after fixing the cause)."""
    seqs = [e.seq for e in events if e.status == OutboxEvent.Status.PARKED]
    with transaction.atomic():
        count = OutboxEvent.objects.filter(seq__in=seqs, status=OutboxEvent.Status.PARKED).update(
            status=OutboxEvent.Status.PENDING, attempts=0, outages=0, next_attempt_at=timezone.now(), claimed_until=None
        )
        if count:
            audit_record(actor=actor, target="outbox", details={"operation": "outbox.retry", "count": count})
            _drain_after_commit()
    return count


def _backoff(n: int) -> float:
    delay = min(settings.EVENTS_OUTBOX_BACKOFF_MAX, settings.EVENTS_OUTBOX_BACKOFF_BASE * 2 ** max(n - 1, 0))
    return delay * random.uniform(0.5, 1.0)


def bus_name(bus: str) -> str:
    return settings.AWS_CONTROL_PLANE_BUS_NAME if bus == OutboxEvent.Bus.CONTROL_PLANE else settings.AWS_EVENT_BUS_NAME


def _entry(event: OutboxEvent) -> BusEntry:
    return BusEntry(
        event_id=str(event.event_id),
        bus=bus_name(event.bus),
        source=event.source,
        detail_type=event.detail_type,
        # A failed entry's batch-mates may land before its retry; the outbox sequence lets consumers restore
        # per-tenant order (it is fixed per entry, so every redelivery carries the same content).
        detail_json=json.dumps({**event.detail, "sequence": event.seq}, separators=(",", ":"), sort_keys=True),
    )


def _claim(token: str, count: int) -> list[OutboxEvent]:
    now = timezone.now()
    with transaction.atomic():
        rows = list(
            OutboxEvent.objects.select_for_update()
            .filter(status=OutboxEvent.Status.PENDING)
            .order_by("seq")
            .only("seq", "tenant_id", "next_attempt_at", "claimed_until")[: count * 5]
        )
        held_back, chosen = set(), []
        for row in rows:
            if row.tenant_id in held_back:
                continue
            if row.next_attempt_at > now or (row.claimed_until and row.claimed_until > now):
                held_back.add(row.tenant_id)
                continue
            chosen.append(row.seq)
            if len(chosen) == count:
                break
        if chosen:
            lease = now + timedelta(seconds=settings.EVENTS_OUTBOX_LEASE_SECONDS)
            OutboxEvent.objects.filter(seq__in=chosen).update(claim_token=token, claimed_until=lease)
    return list(OutboxEvent.objects.filter(seq__in=chosen, claim_token=token).order_by("seq"))


def _unclaim(token: str, seqs: list[int], **changes) -> None:
    if seqs:
        OutboxEvent.objects.filter(seq__in=seqs, claim_token=token, status=OutboxEvent.Status.PENDING).update(
            claimed_until=None, claim_token="", **changes
        )


def _pause_state() -> tuple[float, int] | None:
    """(paused until, consecutive bus outages), shared through the cache. An unreachable cache means no pause: the
    pause only spares the bus, and the entries stay in the outbox whatever happens."""
    try:
        return cache.get(_PAUSE_KEY)
    except STORE_ERRORS as exc:
        cache_outage().failed(exc)
        return None


def _set_pause_state(state: tuple[float, int] | None) -> None:
    try:
        if state is None:
            cache.delete(_PAUSE_KEY)
        else:
            cache.set(_PAUSE_KEY, state, timeout=int(settings.EVENTS_OUTBOX_BACKOFF_MAX) + 60)
    except STORE_ERRORS as exc:
        cache_outage().failed(exc)


def _paused() -> bool:
    until = _pause_state()
    return until is not None and until[0] > time.time()


def _pause(exc: Exception) -> None:
    previous = _pause_state()
    outages = (previous[1] if previous else 0) + 1
    _set_pause_state((time.time() + _backoff(outages), outages))
    logger.warning("Event bus unreachable (%s consecutive outages): %s", outages, exc)


def _record(token: str, sent: list[OutboxEvent], results: list[EntryResult], report: DrainReport) -> set:
    """Store the outcome of one PutEvents call; return the tenants that must wait for a retry."""
    now = timezone.now()
    ok = [e.seq for e, r in zip(sent, results) if r.ok]
    OutboxEvent.objects.filter(seq__in=ok).update(
        status=OutboxEvent.Status.DELIVERED, delivered_at=now, claimed_until=None, claim_token="", last_error=""
    )
    report.delivered += len(ok)
    waiting = set()
    for event, result in zip(sent, results):
        if result.ok:
            continue
        waiting.add(event.tenant_id)
        report.failed += 1
        error = f"{result.error_code}: {result.error_message}"[:500]
        if result.error_code in TRANSIENT_ENTRY_ERRORS:
            event.outages += 1
            _unclaim(token, [event.seq], outages=F("outages") + 1, last_error=error,
                     next_attempt_at=now + timedelta(seconds=_backoff(event.outages)))
            continue
        attempts = event.attempts + 1
        if attempts >= settings.EVENTS_OUTBOX_MAX_ATTEMPTS:
            report.parked += 1
            logger.error("Outbox event %s parked after %s rejected deliveries: %s", event.event_id, attempts, error)
            _unclaim(token, [event.seq], attempts=attempts, last_error=error, status=OutboxEvent.Status.PARKED)
            waiting.discard(event.tenant_id)  # a parked entry no longer holds its tenant back
        else:
            _unclaim(token, [event.seq], attempts=attempts, last_error=error,
                     next_attempt_at=now + timedelta(seconds=_backoff(attempts)))
    return waiting


def outbox_drain(*, max_seconds: float = 30.0, claim_size: int = 100) -> DrainReport:
    """Deliver due entries until none is left or max_seconds have passed. Safe to run concurrently."""
    report = DrainReport()
    bus = data_plane().events
    token = uuid.uuid4().hex
    deadline = time.monotonic() + max_seconds
    while time.monotonic() < deadline and not _paused():
        claimed = _claim(token, claim_size)
        if not claimed:
            break
        waiting: set = set()
        queue = list(claimed)
        while queue:
            # Later entries of a tenant whose entry must be retried go back in line behind it.
            held = [e.seq for e in queue if e.tenant_id in waiting]
            _unclaim(token, held)
            queue = [e for e in queue if e.tenant_id not in waiting]
            chunk, queue = queue[:PUT_EVENTS_MAX_ENTRIES], queue[PUT_EVENTS_MAX_ENTRIES:]
            if not chunk:
                break
            try:
                report.calls += 1
                results = bus.put_events([_entry(e) for e in chunk])
            except BackendError as exc:
                report.outage = True
                _pause(exc)
                unsent = [e.seq for e in chunk + queue]
                _unclaim(token, unsent, outages=F("outages") + 1)
                return report
            waiting |= _record(token, chunk, results, report)
        _set_pause_state(None)
    return report


def outbox_next_due_in() -> float | None:
    """Seconds until a pending entry may be tried (leases and backoffs included); None when none is pending."""
    due = (
        OutboxEvent.objects.filter(status=OutboxEvent.Status.PENDING)
        .annotate(ready=Greatest("next_attempt_at", Coalesce("claimed_until", "next_attempt_at")))
        .aggregate(first=Min("ready"))["first"]
    )
    if due is None:
        return None
    wait = max(0.0, (due - timezone.now()).total_seconds())
    pause = _pause_state()
    if pause:
        wait = max(wait, pause[0] - time.time())
    return wait


def _drain_round() -> float | None:
    outbox_drain()
    return outbox_next_due_in()


embedded_drainer = DrainLoop("Event outbox drain", _drain_round, lambda: settings.EVENTS_OUTBOX_POLL_SECONDS)


def outbox_start_embedded_drainer() -> bool:
    """For a serving process: with no broker, drain in a background loop instead of inside requests."""
    if not settings.CELERY_TASK_ALWAYS_EAGER:
        return False
    embedded_drainer.start()
    return True


def _drain_after_commit() -> None:
    if embedded_drainer.running:
        transaction.on_commit(embedded_drainer.wake, robust=True)
    else:
        enqueue_on_commit(DRAIN_TASK)
