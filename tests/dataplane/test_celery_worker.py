"""A real Celery worker on Redis drains the outbox; killing it mid-drain loses nothing."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from celery import Celery
from django.conf import settings
from django.db import connection

from mcpbridge.models import LocalDeliveredEvent, OutboxEvent
from mcpbridge.services.events import event_send
from tests.dataplane.conftest import TEST_REDIS_URL
from tests.dataplane.test_quotas import limited

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]
ROOT = Path(settings.BASE_DIR)


def _database_url() -> str:
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    host, port = db.get("HOST") or "127.0.0.1", db.get("PORT") or 5432
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{host}:{port}/{db['NAME']}"


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


@pytest.fixture
def worker(tmp_path):
    redis.Redis.from_url(TEST_REDIS_URL).flushdb()
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "CELERY_BROKER_URL": TEST_REDIS_URL,
        "DATAPLANE_BACKEND": "local",
        "DATAPLANE_LOCAL_ROOT": str(tmp_path / "artifacts"),
        "DATAPLANE_LOCAL_EVENTS_DELAY": "0.05",  # a bus with some latency, so there is a "mid-drain" to kill
        "EVENTS_OUTBOX_LEASE_SECONDS": "1",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "controlplane", "worker", "--concurrency=1", "--pool=prefork",
         "--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel=INFO", "-n", "dataplane-test@%h"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=open(tmp_path / "worker.log", "wb"),
    )
    yield process
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    redis.Redis.from_url(TEST_REDIS_URL).flushdb()


def _wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def test_a_worker_killed_mid_drain_loses_nothing(worker, make_principal, monkeypatch):
    # Accept the events without the in-process (eager) drain: the worker is to deliver them.
    monkeypatch.setattr("mcpbridge.services.outbox.enqueue_on_commit", lambda *a, **k: None)
    p = make_principal(tenant=limited({"events_per_month": 10_000}))
    accepted = [event_send(principal=p, detail_type="burst", detail={"i": i})["event_id"] for i in range(400)]
    Celery(broker=TEST_REDIS_URL).send_task("mcpbridge.tasks.drain_outbox")

    _wait_for(lambda: LocalDeliveredEvent.objects.count() >= 50, 60, "the worker to start delivering")
    children = _children(worker.pid)
    assert children, "no pool process to kill"
    for child in children:
        os.kill(child, signal.SIGKILL)
    assert LocalDeliveredEvent.objects.count() < 300, "the drain finished before the kill"

    _wait_for(
        lambda: not OutboxEvent.objects.exclude(status=OutboxEvent.Status.DELIVERED).exists(), 30, "the outbox to empty"
    )
    delivered = set(LocalDeliveredEvent.objects.values_list("event_id", flat=True))
    assert set(accepted) <= delivered
    for row in LocalDeliveredEvent.objects.filter(event_id__in=accepted[:20]):
        assert row.detail["data"] == {"i": accepted.index(row.event_id)}
