"""Lifecycle events in the SaaS Builder Toolkit's contract, provisioning, and the offboarding purge."""

import json

import pytest

from mcpbridge.models import OutboxEvent, TenantDataPlane
from mcpbridge.services import provisioning
from mcpbridge.services.artifacts import artifact_put
from mcpbridge.services.kv import kv_set
from mcpbridge.services.outbox import outbox_drain
from mcpbridge.services.provisioning import tenant_data_purge
from mcpbridge.services.quotas import quota_status
from mcpbridge.services.secrets import secret_put
from tenants.models import Plan, Tenant
from tenants.services import Actor, tenant_change_plan, tenant_offboard, tenant_resume, tenant_suspend
from tests.dataplane import stores
from tests.dataplane.aws import drain_queue, observe_bus
from tests.factories import make_org, make_tenant

pytestmark = pytest.mark.django_db
ACTOR = Actor("test")


def control_events(tenant):
    return list(
        OutboxEvent.objects.filter(tenant_id=tenant.id, bus=OutboxEvent.Bus.CONTROL_PLANE).values_list("detail_type", "detail")
    )


def test_lifecycle_changes_are_published_in_the_sbt_contract(backend, settings):
    tenant = make_tenant(registration_data={"email": "ops@example.com"})
    tenant_suspend(tenant=tenant, actor=ACTOR)
    tenant_resume(tenant=tenant, actor=ACTOR)
    tenant_change_plan(tenant=tenant, plan=Plan.objects.exclude(pk=tenant.plan_id).first(), actor=ACTOR)
    tenant_offboard(tenant=tenant, actor=ACTOR)
    events = control_events(tenant)
    assert [t for t, _ in events] == [
        "sbt_aws_onboardingRequest",
        "sbt_aws_deactivateRequest",
        "sbt_aws_activateRequest",
        "mcp_tenantPlanChanged",
        "sbt_aws_offboardingRequest",
    ]
    onboarding = events[0][1]
    assert onboarding["tenantId"] == str(tenant.id) and onboarding["tenantName"] == tenant.name
    assert onboarding["tier"] == "standard" and onboarding["email"] == "ops@example.com"
    assert onboarding["tenantRegistrationData"] == {"email": "ops@example.com"}
    assert all(row.source == "sbt.control.plane" for row in OutboxEvent.objects.filter(tenant_id=tenant.id))
    if settings.DATAPLANE_BACKEND == "aws":
        queue = observe_bus(settings.AWS_CONTROL_PLANE_BUS_NAME, "control", settings.AWS_ENDPOINT_URL, "sbt.")
        outbox_drain()
        received = drain_queue(queue, settings.AWS_ENDPOINT_URL)
        assert sorted(e["detail-type"] for e in received) == sorted(t for t, _ in events)
        assert {e["source"] for e in received} == {"sbt.control.plane"}


def test_onboarding_provisions_and_offboarding_purges_only_that_tenant(
    backend, make_principal, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        doomed, kept = make_tenant(), make_tenant()
    assert TenantDataPlane.objects.get(tenant=doomed).provisioned_at is not None
    org = make_org(doomed)
    writers = [
        make_principal(tenant=doomed, role="admin"),
        make_principal(tenant=doomed, role="admin", org=org),
        make_principal(tenant=kept, role="admin"),
    ]
    for p in writers:
        for i in range(30):
            kv_set(principal=p, key=f"k{i}", value="v")
        for i in range(5):
            artifact_put(principal=p, name=f"files/{i}.txt", content="data")
            secret_put(principal=p, name=f"s{i}", value="v")
    before_kept = (
        sorted(k for k in stores.all_kv() if k[0].startswith(f"t/{kept.id}/")),
        sorted(k for k in stores.all_artifact_keys() if str(kept.id) in k),
        sorted(n for n in stores.all_secret_names() if str(kept.id) in n),
    )
    with django_capture_on_commit_callbacks(execute=True):
        tenant_offboard(tenant=doomed, actor=ACTOR)
    doomed.refresh_from_db()
    assert doomed.status == Tenant.Status.OFFBOARDED
    state = TenantDataPlane.objects.get(tenant=doomed)
    assert state.purge_finished_at and state.purge_progress == {"kv": 60, "artifacts": 10, "secrets": 10}
    everything = json.dumps([stores.all_kv(), stores.all_artifact_keys(), stores.all_secret_names()])
    assert str(doomed.id) not in everything
    after_kept = (
        sorted(k for k in stores.all_kv() if k[0].startswith(f"t/{kept.id}/")),
        sorted(k for k in stores.all_artifact_keys() if str(kept.id) in k),
        sorted(n for n in stores.all_secret_names() if str(kept.id) in n),
    )
    assert after_kept == before_kept and len(after_kept[0]) == 30
    assert quota_status(principal=writers[0])["kv_items"]["used"] == 0
    assert "mcp_tenantOffboarded" in [t for t, _ in control_events(doomed)]


def test_purge_resumes_after_an_interruption(backend, make_principal, monkeypatch):
    tenant = make_tenant()
    p = make_principal(tenant=tenant, role="admin")
    for i in range(250):
        kv_set(principal=p, key=f"k{i}", value="v")
    tenant_offboard(tenant=tenant, actor=ACTOR)
    real_progress, calls = provisioning._progress, []

    def crash_after_two_chunks(state, store, count, on_progress):
        real_progress(state, store, count, on_progress)
        calls.append(count)
        if len(calls) == 2:
            raise RuntimeError("worker died")

    monkeypatch.setattr(provisioning, "_progress", crash_after_two_chunks)
    with pytest.raises(RuntimeError):
        tenant_data_purge(tenant_id=tenant.id)
    assert TenantDataPlane.objects.get(tenant=tenant).purge_progress == {"kv": 200}
    assert len([k for k in stores.all_kv() if k[0].startswith(f"t/{tenant.id}/")]) == 50
    monkeypatch.setattr(provisioning, "_progress", real_progress)
    tenant_data_purge(tenant_id=tenant.id)
    assert TenantDataPlane.objects.get(tenant=tenant).purge_progress == {"kv": 250}
    assert not [k for k in stores.all_kv() if k[0].startswith(f"t/{tenant.id}/")]
    tenant.refresh_from_db()
    assert tenant.status == Tenant.Status.OFFBOARDED
