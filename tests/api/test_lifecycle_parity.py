"""Tenant provisioning through the API produces the same lifecycle events as through the admin."""

import json

import pytest
from django.test import Client
from django.urls import reverse

from mcpbridge.models.outbox import OutboxEvent
from tenants.models import AuditEvent, Plan, Tenant
from tests.factories import make_user

pytestmark = pytest.mark.django_db


def _through_admin(client, slug):
    response = client.post(reverse("admin:tenants_tenant_add"), {
        "slug": slug, "name": "Parity", "plan": Plan.objects.get(slug="free").pk,
        "registration_data": '{"email": "ops@example.com"}',
        "organizations-TOTAL_FORMS": "0", "organizations-INITIAL_FORMS": "0",
        "memberships-TOTAL_FORMS": "0", "memberships-INITIAL_FORMS": "0",
        "limit_overrides-TOTAL_FORMS": "0", "limit_overrides-INITIAL_FORMS": "0",
    })
    assert response.status_code == 302
    tenant = Tenant.objects.get(slug=slug)
    url = reverse("admin:tenants_tenant_changelist")
    for action in ("suspend_tenants", "resume_tenants", "offboard_tenants"):
        client.post(url, {"action": action, "_selected_action": [tenant.pk]})


def _through_api(client, slug):
    response = client.post("/api/v1/tenants/", data=json.dumps(
        {"slug": slug, "name": "Parity", "plan": "free", "registration_data": {"email": "ops@example.com"}}),
        content_type="application/json")
    assert response.status_code == 201
    tenant_id = response.json()["id"]
    for step in ("suspend", "resume", "offboard"):
        assert client.post(f"/api/v1/tenants/{tenant_id}/{step}/").status_code == 200


def _trace(slug, emitted):
    tenant = Tenant.objects.get(slug=slug)
    return {
        "signals": [(event, previous) for s, event, previous in emitted if s == slug],
        "audit": list(AuditEvent.objects.filter(tenant=tenant).order_by("id").values_list(
            "details__operation", "outcome")),
        "outbox": list(OutboxEvent.objects.filter(tenant_id=tenant.id).order_by("seq").values_list(
            "detail_type", flat=True)),
        "status": tenant.status,
    }


def test_api_and_admin_emit_the_same_lifecycle(lifecycle_events):
    staff = make_user("root", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(staff)

    _through_admin(client, "by-admin")
    _through_api(client, "by-api")

    by_admin, by_api = _trace("by-admin", lifecycle_events), _trace("by-api", lifecycle_events)
    assert by_admin["signals"] == by_api["signals"]
    assert [e for e, _ in by_api["signals"]] == ["onboarded", "suspended", "resumed", "offboarding"]
    assert by_admin["audit"] == by_api["audit"]
    assert by_admin["outbox"] == by_api["outbox"] and by_api["outbox"]
    assert by_admin["status"] == by_api["status"]
    assert AuditEvent.objects.filter(actor="user:root", action="api_call").exists()
    assert AuditEvent.objects.filter(actor="user:root", action="admin_change").exists()
