"""Input that used to end in a 500 is answered in the one error shape: extreme datetimes, oversized bodies."""

import json

import pytest
from django.test import Client

from tests.api.conftest import client_for, snapshot

pytestmark = pytest.mark.django_db

EXTREME_DATETIMES = ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"]


@pytest.mark.parametrize("value", EXTREME_DATETIMES)
@pytest.mark.parametrize("path", ["/api/v1/tenants/", "/api/v1/audit-events/"])
@pytest.mark.parametrize("name", ["created_after", "created_before"])
def test_a_datetime_filter_outside_the_utc_range_is_a_400_naming_it(world, path, name, value):
    response = client_for(world, "staff").get(path, {name: value})
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert name in body["details"]["fields"]
    assert "out of range" in body["message"]


def test_a_datetime_filter_near_the_edges_still_filters(world):
    client = client_for(world, "staff")
    assert client.get("/api/v1/tenants/", {"created_after": "0001-01-01T12:00:00+11:00"}).json()["count"] == 2
    assert client.get("/api/v1/tenants/", {"created_after": "9999-12-31T00:00:00-14:00"}).json()["count"] == 0


@pytest.mark.parametrize("value", EXTREME_DATETIMES)
def test_an_api_key_expiry_outside_the_utc_range_is_a_400(world, value):
    before = snapshot()
    response = client_for(world, "staff").post(
        "/api/v1/api-keys/", data=json.dumps({"membership": str(world.b_user.id), "name": "x", "expires_at": value}),
        content_type="application/json")
    assert response.status_code == 400
    assert "expires_at" in response.json()["details"]["fields"]
    assert snapshot() == before


@pytest.mark.parametrize("path", ["/api/v1/organizations/", "/api/v1/tenants/"])
def test_a_body_over_the_upload_limit_is_a_413(world, settings, path):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    before = snapshot()
    body = json.dumps({"tenant": str(world.b.id), "slug": "big", "name": "x" * 4096})
    response = client_for(world, "staff").post(path, data=body, content_type="application/json")
    assert response.status_code == 413
    answer = response.json()
    assert answer["code"] == "request_too_large"
    assert "1024 bytes" in answer["message"]
    assert snapshot() == before


def test_a_decision_api_body_over_the_upload_limit_is_a_413(world, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    response = Client().post("/api/decide/v1/check", data=json.dumps({"tool": "kv_get", "pad": "x" * 4096}),
                             content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {world.b_user_raw}")
    assert response.status_code == 413
    assert response.json()["code"] == "request_too_large"


def test_an_application_plane_event_over_the_upload_limit_is_a_413(world, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    settings.APP_PLANE_WEBHOOK_SECRET = "app-plane-secret-for-tests"
    event = {"id": "e1", "detail-type": "provisionSuccess", "detail": {"tenantId": str(world.b.id), "pad": "x" * 4096}}
    response = Client().post("/api/v1/application-plane/events/", data=json.dumps(event),
                             content_type="application/json", HTTP_AUTHORIZATION="Bearer app-plane-secret-for-tests")
    assert response.status_code == 413
    assert response.json()["code"] == "request_too_large"
