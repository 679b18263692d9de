"""Application-plane results (SaaS Builder Toolkit detail-types), as an EventBridge API destination posts them."""

import json
import uuid

import pytest
from django.test import Client

from tenants.models import ApplicationPlaneEvent, AuditEvent, Tenant
from tenants.services import tenant_offboard, tenant_suspend
from tests.factories import ACTOR, make_tenant

pytestmark = pytest.mark.django_db
SECRET = "app-plane-secret-for-tests"
PATH = "/api/v1/application-plane/events/"


@pytest.fixture(autouse=True)
def _secret(settings):
    settings.APP_PLANE_WEBHOOK_SECRET = SECRET


def deliver(detail_type, detail, *, event_id=None, secret=SECRET):
    event = {"version": "0", "id": event_id or str(uuid.uuid4()), "detail-type": detail_type,
             "source": "applicationPlaneEventSource", "account": "123456789012", "time": "2026-01-01T00:00:00Z",
             "region": "us-east-1", "resources": [], "detail": detail}
    return Client().post(PATH, data=json.dumps(event), content_type="application/json",
                         HTTP_AUTHORIZATION=f"Bearer {secret}")


def test_provision_success_stores_the_output():
    tenant = make_tenant()
    response = deliver("provisionSuccess", {"tenantId": str(tenant.id), "tenantOutput": {"url": "https://t.example"}})
    assert response.status_code == 200, response.content
    tenant.refresh_from_db()
    assert tenant.status == "active"
    assert tenant.provisioning_output["state"] == "provisioned"
    assert tenant.provisioning_output["tenantOutput"] == {"url": "https://t.example"}


def test_provision_failure_suspends_the_tenant():
    tenant = make_tenant()
    deliver("provisionFailure", {"tenantId": tenant.slug, "message": "stack rollback"})
    tenant.refresh_from_db()
    assert tenant.status == "suspended"
    assert tenant.provisioning_output == {**tenant.provisioning_output, "state": "provision_failed",
                                          "message": "stack rollback"}


def test_deprovision_success_finishes_offboarding():
    tenant = make_tenant()
    tenant_offboard(tenant=tenant, actor=ACTOR)
    Tenant.objects.filter(pk=tenant.pk).update(status="offboarding")  # in case the eager purge already finished
    response = deliver("deprovisionSuccess", {"tenantId": str(tenant.id)})
    assert response.status_code == 200
    tenant.refresh_from_db()
    assert tenant.status == "offboarded"


def test_activate_and_deactivate():
    tenant = make_tenant()
    tenant_suspend(tenant=tenant, actor=ACTOR)
    assert deliver("activateSuccess", {"tenantId": tenant.slug}).json()["status"] == "active"
    assert deliver("deactivateSuccess", {"tenantId": tenant.slug}).json()["status"] == "suspended"


def test_redelivery_of_the_same_event_is_a_no_op():
    tenant = make_tenant()
    tenant_suspend(tenant=tenant, actor=ACTOR)
    first = deliver("activateSuccess", {"tenantId": tenant.slug}, event_id="evt-42")
    tenant_suspend(tenant=tenant, actor=ACTOR)  # an admin suspends again after the activation
    audit_count = AuditEvent.objects.count()
    again = deliver("activateSuccess", {"tenantId": tenant.slug}, event_id="evt-42")

    assert first.json()["duplicate"] is False
    assert again.status_code == 200 and again.json()["duplicate"] is True
    tenant.refresh_from_db()
    assert tenant.status == "suspended", "a redelivered event must not act twice"
    assert AuditEvent.objects.count() == audit_count
    assert ApplicationPlaneEvent.objects.filter(event_id="evt-42").count() == 1


def test_result_that_does_not_fit_the_status_is_a_conflict_and_changes_nothing():
    tenant = make_tenant()
    response = deliver("deprovisionSuccess", {"tenantId": tenant.slug})
    assert response.status_code == 409
    assert response.json()["code"] == "conflict"
    tenant.refresh_from_db()
    assert tenant.status == "active" and tenant.provisioning_output == {}
    assert not ApplicationPlaneEvent.objects.exists()


@pytest.mark.parametrize("secret", ["wrong", ""])
def test_wrong_credential_is_refused(secret):
    tenant = make_tenant()
    response = deliver("provisionFailure", {"tenantId": tenant.slug}, secret=secret or "x")
    assert response.status_code == 401
    tenant.refresh_from_db()
    assert tenant.status == "active"


def test_closed_when_no_secret_is_configured(settings):
    settings.APP_PLANE_WEBHOOK_SECRET = ""
    tenant = make_tenant()
    assert deliver("provisionFailure", {"tenantId": tenant.slug}, secret="").status_code == 401


def test_invalid_events_name_the_field():
    tenant = make_tenant()
    unknown = deliver("provisionMaybe", {"tenantId": tenant.slug})
    missing = deliver("provisionSuccess", {"nothing": 1})
    no_such = deliver("provisionSuccess", {"tenantId": "no-such-tenant"})
    assert unknown.status_code == 400 and "detail_type" in unknown.json()["message"]
    assert missing.status_code == 400 and "tenantId" in missing.json()["message"]
    assert no_such.status_code == 404
