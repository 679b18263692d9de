"""Provisioning API behaviour beyond authorization: errors, lists, keys, rate limits, policy effect."""

import json

import pytest
from django.test import Client

from tenants.models import ApiKey, AuditEvent, Tenant
from tenants.policy import resolve_api_key
from tenants.services import tenant_limit_set
from tests.api.conftest import client_for
from tests.factories import ACTOR, make_tenant

pytestmark = pytest.mark.django_db


def send(client, method, path, body=None):
    return getattr(client, method)(path, data=json.dumps(body or {}), content_type="application/json")


def test_invalid_input_names_the_field(world):
    response = send(client_for(world, "staff"), "post", "/api/v1/tenants/", {"slug": "Not a slug!", "plan": "free"})
    body = response.json()
    assert response.status_code == 400
    assert body["code"] == "invalid"
    assert set(body["details"]["fields"]) >= {"slug", "name"}
    assert body["message"].split(":")[0] in ("slug", "name")


def test_duplicate_is_409_and_bad_transition_is_409(world):
    staff = client_for(world, "staff")
    dup = send(staff, "post", "/api/v1/organizations/", {"tenant": str(world.b.id), "slug": "b-org", "name": "x"})
    assert dup.status_code == 409 and dup.json()["code"] == "conflict"
    send(staff, "post", f"/api/v1/tenants/{world.b.id}/offboard/")
    Tenant.objects.filter(pk=world.b.pk).update(status="offboarding")
    resume = send(staff, "post", f"/api/v1/tenants/{world.b.id}/resume/")
    assert resume.status_code == 409 and resume.json()["code"] == "invalid_transition"


def test_tenant_key_creates_in_its_own_tenant(world):
    response = send(client_for(world, "tenant_admin"), "post", "/api/v1/organizations/", {"slug": "mine", "name": "M"})
    assert response.status_code == 201
    assert response.json()["tenant"] == str(world.b.id)


def test_staff_must_name_the_tenant(world):
    response = send(client_for(world, "staff"), "post", "/api/v1/organizations/", {"slug": "x", "name": "X"})
    assert response.status_code == 400 and "tenant" in response.json()["details"]["fields"]


def test_adding_a_member_creates_the_user_once(world):
    client = client_for(world, "tenant_admin")
    first = send(client, "post", "/api/v1/memberships/", {"username": "carol", "email": "c@example.com", "role": "user"})
    assert first.status_code == 201
    assert first.json()["user"]["username"] == "carol@tenant-b"
    again = send(client, "post", "/api/v1/memberships/", {"username": "carol", "role": "user"})
    assert again.status_code == 409


def test_key_lifecycle_and_effect_on_resolution(world):
    client = client_for(world, "tenant_admin")
    created = send(client, "post", "/api/v1/api-keys/", {"membership": str(world.b_user.id), "name": "ci"}).json()
    raw = created["key"]
    assert resolve_api_key(raw).username == "b-user"
    listed = client.get("/api/v1/api-keys/?prefix=" + created["prefix"]).json()
    assert listed["count"] == 1 and "key" not in listed["results"][0]
    assert raw not in json.dumps(listed)
    rotated = send(client, "post", f"/api/v1/api-keys/{created['id']}/rotate/").json()
    assert rotated["key"] != raw and rotated["prefix"] != created["prefix"]
    assert ApiKey.objects.get(pk=created["id"]).revoked_at is not None
    revoke = send(client, "post", f"/api/v1/api-keys/{rotated['id']}/revoke/", {"reason": "done"})
    assert revoke.json()["revoked_reason"] == "done"
    assert AuditEvent.objects.filter(action="api_call", details__operation="api_key.revoke").exists()
    assert raw not in json.dumps(list(AuditEvent.objects.values("details", "target")))


def test_suspension_through_the_api_refuses_the_tenants_keys(world):
    send(client_for(world, "staff"), "post", f"/api/v1/tenants/{world.b.id}/suspend/")
    response = client_for(world, "tenant_admin").get("/api/v1/tenants/")
    assert response.status_code == 403 and response.json()["code"] == "tenant_suspended"


def test_audit_filters(world):
    client = client_for(world, "staff")
    send(client, "patch", f"/api/v1/organizations/{world.b_org.id}/", {"name": "Renamed"})
    rows = client.get("/api/v1/audit-events/?actor=user:staff&action=api_call&outcome=ok").json()["results"]
    assert [r["details"]["operation"] for r in rows] == ["org.update"]
    assert client.get("/api/v1/audit-events/?created_after=2999-01-01T00:00:00Z").json()["count"] == 0
    bad = client.get("/api/v1/audit-events/?outcome=nope")
    assert bad.status_code == 400 and "outcome" in bad.json()["details"]["fields"]


def test_lists_filter_order_and_paginate(world):
    client = client_for(world, "staff")
    for n in range(3):
        make_tenant(f"extra-{n}")
    page = client.get("/api/v1/tenants/?ordering=-slug&limit=2&offset=1").json()
    assert page["count"] == 5
    assert [t["slug"] for t in page["results"]] == ["tenant-a", "extra-2"]
    assert page["next"] and page["previous"]
    assert client.get("/api/v1/tenants/?slug=extra-1").json()["count"] == 1
    usage = client.get(f"/api/v1/usage/?tenant={world.b.id}&metric=tool_calls").json()
    assert [u["value"] for u in usage["results"]] == [3]


def test_session_revoke_ends_the_session(world):
    response = send(client_for(world, "tenant_admin"), "post", f"/api/v1/mcp-sessions/{world.b_session.id}/revoke/")
    assert response.json()["end_reason"] == "revoked" and response.json()["is_open"] is False


def test_rate_limited_with_retry_after(world):
    tenant_limit_set(tenant=world.b, limit="requests_per_minute", value=3, actor=ACTOR)
    client = client_for(world, "tenant_admin")
    statuses = [client.get("/api/v1/organizations/") for _ in range(4)]
    assert [r.status_code for r in statuses] == [200, 200, 200, 429]
    assert int(statuses[-1]["Retry-After"]) >= 1
    assert statuses[-1].json()["code"] == "rate_limited"


def test_staff_session_needs_csrf_for_writes(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.staff)
    response = send(client, "post", "/api/v1/tenants/", {"slug": "csrf", "name": "C", "plan": "free"})
    assert response.status_code == 403
    assert not Tenant.objects.filter(slug="csrf").exists()


def test_non_staff_session_is_forbidden(world):
    client = Client()
    client.force_login(world.b_user.user)
    assert client.get("/api/v1/tenants/").status_code == 403


def test_docs_pages_and_schemas_are_served(db):
    client = Client()
    for page in ("/api/v1/docs/", "/api/v1/redoc/", "/api/decide/docs"):
        response = client.get(page)
        assert response.status_code == 200
        assert "cdn." not in response.content.decode()  # assets come from this server, not a CDN
    drf = client.get("/api/v1/schema/?format=json").json()
    assert "/api/v1/tenants/{id}/suspend/" in drf["paths"]
    assert "429" in drf["paths"]["/api/v1/tenants/"]["get"]["responses"]
    assert "/api/decide/v1/check" in client.get("/api/decide/openapi.json").json()["paths"]
