"""The outbox drain: batches of at most 10, only failed entries resent, poison parked, per-tenant order, outages survived."""

import threading
import time
from collections import Counter, defaultdict

import pytest

from mcpbridge.dataplane import ports
from mcpbridge.dataplane.local import LocalEventBus
from mcpbridge.models import LocalDeliveredEvent, OutboxEvent
from mcpbridge.services.events import event_send
from mcpbridge.services.outbox import outbox_drain, outbox_retry
from tenants.services import Actor
from tests.dataplane.aws import drain_queue, observe_bus
from tests.dataplane.test_quotas import limited

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fast_backoff(settings):
    settings.EVENTS_OUTBOX_BACKOFF_BASE = 0.01
    settings.EVENTS_OUTBOX_BACKOFF_MAX = 0.05
    settings.EVENTS_OUTBOX_MAX_ATTEMPTS = 3


def drain_until_settled(timeout: float = 90.0):  # a guard against a hang, not a speed target
    deadline = time.monotonic() + timeout
    while OutboxEvent.objects.filter(status=OutboxEvent.Status.PENDING).exists():
        assert time.monotonic() < deadline, "outbox did not settle"
        outbox_drain(max_seconds=5)
        time.sleep(0.02)


class FlakyBus:
    """The local bus with injected per-entry failures: {event_id: [error codes to return, in turn]}."""

    def __init__(self, failures: dict[str, list[str]]):
        self.inner = LocalEventBus()
        self.failures = failures
        self.calls: list[list[str]] = []

    def put_events(self, entries):
        self.calls.append([e.event_id for e in entries])
        ok, results = [], {}
        for e in entries:
            queue = self.failures.get(e.event_id)
            if queue:
                results[e.event_id] = ports.EntryResult(e.event_id, queue.pop(0), "injected")
            else:
                ok.append(e)
        if ok:
            for r in self.inner.put_events(ok):
                results[r.event_id] = r
        return [results[e.event_id] for e in entries]


@pytest.fixture
def flaky(monkeypatch, settings):
    settings.DATAPLANE_BACKEND = "local"

    def install(failures):
        bus = FlakyBus(failures)
        plane = ports.DataPlane(kv=None, artifacts=None, events=bus, secrets=None)
        monkeypatch.setattr("mcpbridge.services.outbox.data_plane", lambda: plane)
        return bus

    return install


def send_many(principal, count, prefix="e"):
    return [event_send(principal=principal, detail_type=f"{prefix}.{i}", detail={"i": i})["event_id"] for i in range(count)]


def test_only_failed_entries_are_resent_in_batches_of_at_most_ten(flaky, make_principal):
    p = make_principal()
    ids = send_many(p, 35)
    bus = flaky({ids[3]: ["ThrottlingException"], ids[17]: ["InternalFailure", "InternalFailure"]})
    drain_until_settled()
    assert all(1 <= len(call) <= 10 for call in bus.calls)
    sends = Counter(i for call in bus.calls for i in call)
    assert sends[ids[3]] == 2 and sends[ids[17]] == 3
    assert all(sends[i] == 1 for i in ids if i not in (ids[3], ids[17]))
    assert set(LocalDeliveredEvent.objects.values_list("event_id", flat=True)) >= set(ids)
    assert not OutboxEvent.objects.exclude(status=OutboxEvent.Status.DELIVERED).exists()


def test_poison_entries_are_parked_and_can_be_retried(flaky, make_principal):
    p = make_principal()
    ids = send_many(p, 12)
    bus = flaky({ids[5]: ["MalformedDetail"] * 3})
    drain_until_settled()
    parked = OutboxEvent.objects.get(event_id=ids[5])
    assert parked.status == OutboxEvent.Status.PARKED and parked.attempts == 3
    assert "MalformedDetail" in parked.last_error
    assert OutboxEvent.objects.filter(status=OutboxEvent.Status.DELIVERED).count() == 11 + 1  # + the onboarding event
    assert outbox_retry(events=[parked], actor=Actor("admin")) == 1
    drain_until_settled()
    assert OutboxEvent.objects.get(event_id=ids[5]).status == OutboxEvent.Status.DELIVERED
    assert Counter(i for call in bus.calls for i in call)[ids[5]] == 4


def test_per_tenant_order_waits_for_a_retried_entry(flaky, make_principal):
    a, b = make_principal(), make_principal()
    ids_a, ids_b = [], []
    for i in range(30):
        ids_a.append(event_send(principal=a, detail_type="a", detail={"i": i})["event_id"])
        ids_b.append(event_send(principal=b, detail_type="b", detail={"i": i})["event_id"])
    flaky({ids_a[4]: ["ThrottlingException", "ThrottlingException"]})
    drain_until_settled()
    order = list(LocalDeliveredEvent.objects.order_by("delivery_seq").values_list("event_id", flat=True))
    position = {event_id: n for n, event_id in enumerate(order)}
    # Entries sent in the same PutEvents call as the failed one are already out; every later one waits for it.
    later = [i for i in ids_a[5:] if position[i] > position[ids_a[4]]]
    assert later and later == ids_a[ids_a.index(later[0]):]
    assert [position[i] for i in later] == sorted(position[i] for i in later)
    assert [position[i] for i in ids_b] == sorted(position[i] for i in ids_b)
    # What arrived early can be put back in order by the sequence every delivery carries.
    delivered_a = LocalDeliveredEvent.objects.filter(event_id__in=ids_a)
    assert [str(e.event_id) for e in sorted(delivered_a, key=lambda e: e.detail["sequence"])] == ids_a


def test_a_burst_survives_an_eventbridge_outage_without_loss(aws_backend, make_principal, settings):
    queue = observe_bus(settings.AWS_EVENT_BUS_NAME, "tenant-events", aws_backend.url, source_prefix="mcp.")
    p = make_principal(tenant=limited({"events_per_month": 5000}))
    first = send_many(p, 300, "before")
    assert outbox_drain().delivered >= 300
    aws_backend.stop()  # EventBridge unreachable
    try:
        rest = send_many(p, 700, "during")
        report = outbox_drain()
        assert report.outage and report.delivered == 0
        assert OutboxEvent.objects.filter(bus="tenant", status=OutboxEvent.Status.PENDING).count() == 700
    finally:
        aws_backend.start()
    drain_until_settled()
    accepted = {str(e.event_id): {**e.detail, "sequence": e.seq} for e in OutboxEvent.objects.filter(bus="tenant")}
    assert len(accepted) == 1000 and set(accepted) == set(first + rest)
    received = drain_queue(queue, aws_backend.url)
    by_id = defaultdict(list)
    for event in received:
        by_id[event["detail"]["eventId"]].append(event["detail"])
    assert set(by_id) == set(accepted)
    for event_id, copies in by_id.items():
        assert all(copy == accepted[event_id] for copy in copies)


def test_admin_lists_parked_events_and_retries_them(admin_client, flaky, make_principal):
    p = make_principal()
    ids = send_many(p, 2)
    flaky({ids[0]: ["MalformedDetail"] * 3})
    drain_until_settled()
    parked = OutboxEvent.objects.get(event_id=ids[0])
    page = admin_client.get("/admin/mcpbridge/outboxevent/?status__exact=parked")
    assert page.status_code == 200 and str(parked.seq) in page.content.decode()
    response = admin_client.post(
        "/admin/mcpbridge/outboxevent/", {"action": "retry_parked", "_selected_action": [parked.seq]}, follow=True
    )
    assert response.status_code == 200
    parked.refresh_from_db()
    assert parked.status == OutboxEvent.Status.PENDING and parked.attempts == 0
    assert admin_client.get("/admin/mcpbridge/quotausage/").status_code == 200


class BlockingBus:
    """The local bus, held shut until released: a drain that reaches it waits there."""

    def __init__(self):
        self.inner = LocalEventBus()
        self.release = threading.Event()

    def put_events(self, entries):
        self.release.wait(30)
        return self.inner.put_events(entries)


@pytest.fixture
def embedded_drainer(settings):
    """The drain loop a serving process runs when there is no broker (the embedded default)."""
    from mcpbridge.services.outbox import embedded_drainer as loop

    assert settings.CELERY_TASK_ALWAYS_EAGER
    settings.EVENTS_OUTBOX_POLL_SECONDS = 0.5
    loop.start()
    yield loop
    loop.stop()


def wait_for(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


@pytest.mark.django_db(transaction=True)
def test_no_broker_events_accepted_during_an_outage_are_delivered_without_another_request(
    aws_backend, make_principal, settings, embedded_drainer
):
    queue = observe_bus(settings.AWS_EVENT_BUS_NAME, "outage-events", aws_backend.url, source_prefix="mcp.")
    p = make_principal(tenant=limited({"events_per_month": 5000}))
    aws_backend.stop()  # EventBridge unreachable
    try:
        accepted = send_many(p, 25, "during")
        wait_for(lambda: OutboxEvent.objects.filter(event_id__in=accepted).exclude(outages=0).exists(), 30,
                 "the drain loop to meet the outage")
        assert OutboxEvent.objects.filter(event_id__in=accepted, status=OutboxEvent.Status.PENDING).count() == 25
    finally:
        aws_backend.start()
    # No further send, no drain called by anyone: the loop delivers them by itself.
    wait_for(lambda: not OutboxEvent.objects.filter(status=OutboxEvent.Status.PENDING).exists(), 60,
             "the outbox to empty")
    received = {event["detail"]["eventId"] for event in drain_queue(queue, aws_backend.url)}
    assert set(accepted) <= received


@pytest.mark.django_db(transaction=True)
def test_no_broker_a_send_never_waits_for_a_drain(monkeypatch, make_principal, settings, embedded_drainer):
    settings.DATAPLANE_BACKEND = "local"
    bus = BlockingBus()
    plane = ports.DataPlane(kv=None, artifacts=None, events=bus, secrets=None)
    monkeypatch.setattr("mcpbridge.services.outbox.data_plane", lambda: plane)
    p = make_principal()
    try:
        # The drain loop is stuck at the bus with a backlog; sends still return at once.
        sender = threading.Thread(target=send_many, args=(p, 5, "backlog"))
        sender.start()
        sender.join(10)
        assert not sender.is_alive(), "a send waited for the drain"
        assert OutboxEvent.objects.filter(detail_type__startswith="backlog.").count() == 5
    finally:
        bus.release.set()
    wait_for(lambda: not OutboxEvent.objects.filter(status=OutboxEvent.Status.PENDING).exists(), 30,
             "the outbox to empty")
