"""Quotas: clear errors naming limit, usage and maximum; never overshot under concurrency; reconciled from the backend."""

import threading

import pytest
from django.db import connection

from mcpbridge.services.artifacts import artifact_delete, artifact_put
from mcpbridge.services.errors import QuotaExceeded
from mcpbridge.services.events import event_send
from mcpbridge.services.kv import kv_delete, kv_set
from mcpbridge.services.quotas import quota_set, quota_status
from mcpbridge.services.secrets import secret_put
from mcpbridge.tasks import reconcile_usage
from tenants.services import Actor, tenant_limit_set
from tests.dataplane import stores
from tests.factories import make_tenant


def limited(limits: dict):
    tenant = make_tenant()
    for limit, value in limits.items():
        tenant_limit_set(tenant=tenant, limit=limit, value=value, actor=Actor("test"))
    return tenant


def used(p, limit):
    return quota_status(principal=p)[limit]["used"]


@pytest.mark.django_db
def test_kv_items_quota_names_limit_usage_and_maximum(backend, make_principal):
    p = make_principal(tenant=limited({"kv_items": 2}))
    kv_set(principal=p, key="a", value="1")
    kv_set(principal=p, key="b", value="2")
    with pytest.raises(QuotaExceeded) as err:
        kv_set(principal=p, key="c", value="3")
    assert err.value.details == {"limit": "kv_items", "usage": 2, "maximum": 2, "requested": 1}
    assert "kv_items" in err.value.message and "2 used of 2" in err.value.message
    assert sorted(k for _, k in stores.all_kv()) == ["a", "b"]
    kv_set(principal=p, key="a", value="overwrite at the limit is fine")
    kv_delete(principal=p, key="b")
    kv_set(principal=p, key="c", value="3")
    assert quota_status(principal=p)["kv_items"] == {"used": 2, "max": 2}


@pytest.mark.django_db
def test_kv_value_size_limit(backend, make_principal):
    p = make_principal(tenant=limited({"max_kv_value_bytes": 10}))
    kv_set(principal=p, key="ok", value="é" * 5)
    with pytest.raises(QuotaExceeded) as err:
        kv_set(principal=p, key="big", value="é" * 6)
    assert err.value.details == {"limit": "max_kv_value_bytes", "usage": 12, "maximum": 10}


@pytest.mark.django_db
def test_storage_and_artifact_size_quotas(backend, make_principal):
    p = make_principal(tenant=limited({"storage_bytes": 100, "max_artifact_bytes": 60}), role="admin")
    artifact_put(principal=p, name="a", content="x" * 60)
    with pytest.raises(QuotaExceeded) as err:
        artifact_put(principal=p, name="b", content="x" * 61)
    assert err.value.details["limit"] == "max_artifact_bytes"
    with pytest.raises(QuotaExceeded) as err:
        artifact_put(principal=p, name="b", content="x" * 41)
    assert err.value.details == {"limit": "storage_bytes", "usage": 60, "maximum": 100, "requested": 41}
    with pytest.raises(QuotaExceeded):
        artifact_put(principal=p, name="c", size=50)  # presigned uploads are counted too
    artifact_put(principal=p, name="a", content="x" * 10)  # shrinking frees space
    artifact_put(principal=p, name="b", content="x" * 50)
    assert used(p, "storage_bytes") == 60
    artifact_delete(principal=p, name="a")
    assert used(p, "storage_bytes") == 50


@pytest.mark.django_db
def test_secrets_count_and_monthly_events(backend, make_principal):
    p = make_principal(tenant=limited({"secrets_count": 1, "events_per_month": 2}), role="admin")
    secret_put(principal=p, name="one", value="v")
    secret_put(principal=p, name="one", value="v2")
    with pytest.raises(QuotaExceeded) as err:
        secret_put(principal=p, name="two", value="v")
    assert err.value.details["limit"] == "secrets_count"
    assert len(stores.all_secret_names()) == 1
    event_send(principal=p, detail_type="t", detail={})
    event_send(principal=p, detail_type="t", detail={})
    with pytest.raises(QuotaExceeded) as err:
        event_send(principal=p, detail_type="t", detail={})
    assert err.value.details == {"limit": "events_per_month", "usage": 2, "maximum": 2, "requested": 1}


def _hammer(worker, count: int) -> list:
    outcomes, barrier = [], threading.Barrier(count)

    def run(i):
        barrier.wait()
        try:
            worker(i)
            outcomes.append("ok")
        except QuotaExceeded:
            outcomes.append("quota")
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_never_pass_the_quota(backend, make_principal):
    p = make_principal(tenant=limited({"kv_items": 5, "storage_bytes": 500, "secrets_count": 3}), role="admin")
    outcomes = _hammer(lambda i: kv_set(principal=p, key=f"k{i}", value="v"), 16)
    assert outcomes.count("ok") == 5 and outcomes.count("quota") == 11
    assert len(stores.all_kv()) == 5 and used(p, "kv_items") == 5
    outcomes = _hammer(lambda i: artifact_put(principal=p, name=f"a{i}", content="x" * 100), 12)
    assert outcomes.count("ok") == 5
    assert len([k for k in stores.all_artifact_keys() if k.startswith("t/")]) == 5 and used(p, "storage_bytes") == 500
    outcomes = _hammer(lambda i: secret_put(principal=p, name=f"s{i}", value="v"), 10)
    assert outcomes.count("ok") == 3 and len(stores.all_secret_names()) == 3
    # Same key from every thread: one item, counted once.
    q = make_principal(tenant=limited({"kv_items": 3}))
    _hammer(lambda i: kv_set(principal=q, key="shared", value=str(i)), 10)
    assert used(q, "kv_items") == 1


@pytest.mark.django_db
def test_reconciliation_recomputes_usage_from_the_backend(backend, make_principal):
    p = make_principal(role="admin")
    other = make_principal(role="admin")
    kv_set(principal=p, key="a", value="1")
    kv_set(principal=p, key="b", value="2")
    artifact_put(principal=p, name="x", content="12345")
    secret_put(principal=p, name="s", value="v")
    kv_set(principal=other, key="a", value="1")
    for limit in ("kv_items", "storage_bytes", "secrets_count"):
        quota_set(tenant_id=p.tenant_id, limit=limit, used=999)
    assert reconcile_usage(tenant_id=p.tenant_id) == {"kv_items": 2, "storage_bytes": 5, "secrets_count": 1}
    status = quota_status(principal=p)
    assert [status[k]["used"] for k in ("kv_items", "storage_bytes", "secrets_count")] == [2, 5, 1]
    assert used(other, "kv_items") == 1
