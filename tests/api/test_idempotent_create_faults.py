"""A create sent with an Idempotency-Key whose COMMIT answer is lost is answered with its result (201), not 503:
the idempotency record commits with the create and is read back on a new connection. One whose COMMIT never
arrived answers 503 with Retry-After, and its retry with the same key creates it once."""

import json

import pytest
from django.db import connection

from tenants.models import Tenant
from tests.api.conftest import build_world, client_for
from tests.faults.database import commit_faults  # noqa: F401  (fixture)

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="terminating backends needs PostgreSQL"),
]

BODY = {"slug": "certain", "name": "Certain", "plan": "free"}


def _create(client):
    return client.post("/api/v1/tenants/", data=json.dumps(BODY), content_type="application/json",
                       HTTP_IDEMPOTENCY_KEY="create-certain")


def test_a_create_whose_commit_answer_is_lost_answers_201(commit_faults):
    client = client_for(build_world(), "staff")
    commit_faults.at_next_commit(committed=True)
    response = _create(client)
    assert commit_faults.fired == 1
    assert response.status_code == 201, response.content
    assert response.json()["slug"] == "certain"
    assert Tenant.objects.filter(slug="certain").count() == 1
    replay = _create(client)
    assert replay.status_code == 201 and replay["Idempotent-Replayed"] == "true"
    assert replay.json() == response.json()


def test_a_create_whose_commit_never_arrived_answers_503_and_its_retry_creates_it_once(commit_faults):
    client = client_for(build_world(), "staff")
    commit_faults.at_next_commit(committed=False)
    response = _create(client)
    assert commit_faults.fired == 1
    assert response.status_code == 503, response.content
    assert response["Retry-After"] == "1"
    assert not Tenant.objects.filter(slug="certain").exists()
    retry = _create(client)
    assert retry.status_code == 201, retry.content
    assert Tenant.objects.filter(slug="certain").count() == 1
