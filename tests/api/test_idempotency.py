"""A retried create with the same Idempotency-Key answers with the first result and creates nothing more."""

import json
import threading

import pytest
from django.db import connection, connections
from django.test import Client

from tenants.models import ApiKey, IdempotencyRecord, Membership, Organization, Tenant
from tests.api.conftest import build_world, client_for

pytestmark = pytest.mark.django_db


def post(client, path, body, key):
    return client.post(path, data=json.dumps(body), content_type="application/json", HTTP_IDEMPOTENCY_KEY=key)


@pytest.mark.parametrize(
    "path, body, model",
    [
        ("/api/v1/tenants/", {"slug": "retried", "name": "Retried", "plan": "free"}, Tenant),
        ("/api/v1/organizations/", {"tenant": "<b>", "slug": "retried-org", "name": "Org"}, Organization),
        ("/api/v1/memberships/", {"tenant": "<b>", "username": "retried-user", "role": "viewer"}, Membership),
    ],
)
def test_replayed_create_returns_the_first_result(world, path, body, model):
    client = client_for(world, "staff")
    body = {k: (str(world.b.id) if v == "<b>" else v) for k, v in body.items()}
    count = model.objects.count()

    first = post(client, path, body, "create-once-1")
    second = post(client, path, body, "create-once-1")

    assert first.status_code == 201, first.content
    assert second.status_code == 201
    assert second.json() == first.json()
    assert second["Idempotent-Replayed"] == "true"
    assert model.objects.count() == count + 1


def test_api_key_replay_returns_the_same_key_without_the_secret(world):
    client = client_for(world, "tenant_admin")
    body = {"membership": str(world.b_user.id), "name": "deploy"}

    first = post(client, "/api/v1/api-keys/", body, "key-once")
    second = post(client, "/api/v1/api-keys/", body, "key-once")

    assert first.json()["key"].startswith("cpk_")
    assert second.json()["id"] == first.json()["id"]
    assert second.json()["key"] is None, "the raw key is shown once and never stored"
    assert ApiKey.objects.filter(name="deploy").count() == 1
    assert first.json()["key"] not in json.dumps(list(IdempotencyRecord.objects.values("response_body")))


def test_same_key_with_a_different_body_is_a_conflict(world):
    client = client_for(world, "staff")
    post(client, "/api/v1/tenants/", {"slug": "one", "name": "One", "plan": "free"}, "reused")

    response = post(client, "/api/v1/tenants/", {"slug": "two", "name": "Two", "plan": "free"}, "reused")

    assert response.status_code == 409
    assert response.json()["code"] == "idempotency_key_reused"
    assert not Tenant.objects.filter(slug="two").exists()


def test_failed_create_is_not_remembered(world):
    client = client_for(world, "staff")
    bad = post(client, "/api/v1/tenants/", {"slug": "later", "name": "Later", "plan": "no-such-plan"}, "retry-me")
    good = post(client, "/api/v1/tenants/", {"slug": "later", "name": "Later", "plan": "free"}, "retry-me")

    assert bad.status_code == 400
    assert good.status_code == 201
    assert Tenant.objects.filter(slug="later").count() == 1


def test_keys_are_per_caller(world):
    body = {"membership": str(world.b_user.id), "name": "same-key"}
    post(client_for(world, "tenant_admin"), "/api/v1/api-keys/", body, "shared-key")
    other = post(client_for(world, "staff"), "/api/v1/api-keys/", body, "shared-key")

    assert other.status_code == 201
    assert "Idempotent-Replayed" not in other
    assert ApiKey.objects.filter(name="same-key").count() == 2


def test_rotate_replay_rotates_once(world):
    client = client_for(world, "tenant_admin")
    path = f"/api/v1/api-keys/{world.b_key.id}/rotate/"

    first = post(client, path, {}, "rotate-once")
    second = post(client, path, {}, "rotate-once")

    assert first.status_code == second.status_code == 201
    assert second.json()["id"] == first.json()["id"]
    assert ApiKey.objects.filter(membership=world.b_user, revoked_at__isnull=True).count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_retries_create_one_tenant():
    """Two requests with the same key at once: one creates, the other waits and replays."""
    world = build_world()
    session_cookie = client_for(world, "staff").cookies
    barrier = threading.Barrier(4)
    answers = []

    def attempt():
        client = Client()
        client.cookies = session_cookie
        barrier.wait()
        try:
            answers.append(post(client, "/api/v1/tenants/", {"slug": "racer", "name": "Racer", "plan": "free"}, "race"))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=attempt) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert [a.status_code for a in answers] == [201] * 4, [a.content for a in answers]
    assert len({a.json()["id"] for a in answers}) == 1
    assert Tenant.objects.filter(slug="racer").count() == 1
    assert connection.vendor in ("sqlite", "postgresql")
