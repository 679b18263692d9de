"""Property-based fuzzing of both OpenAPI schemas with schemathesis against a live server.

Every operation gets generated requests (valid and invalid); the server must never answer 5xx, and
every answer must match the schema: documented status, content type, headers and body.
Budget: API_FUZZ_EXAMPLES examples per operation (default 25: about 80 s for both APIs on a 2-core box).
"""

import os
import secrets

import pytest
import requests
import schemathesis
from django.test import Client
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tenants.services import tenant_limit_set
from tests.api.conftest import build_world
from tests.factories import ACTOR

EXAMPLES = int(os.environ.get("API_FUZZ_EXAMPLES", "25"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance]

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def fuzz(schema_dict: dict, base_url: str, session: requests.Session) -> list[str]:
    schema = schemathesis.openapi.from_dict(schema_dict)
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def run(case):
            case.call_and_validate(base_url=base_url, session=session, checks=CHECKS)

        try:
            run()
        except Exception as exc:  # noqa: BLE001  (collect every operation's failure, then report them all)
            failures.append(f"{operation.label}: {str(exc)[:2000]}")
    return failures


@pytest.fixture
def fuzz_world(live_server, settings):
    settings.APP_PLANE_WEBHOOK_SECRET = "fuzz-secret"
    settings.API_STAFF_REQUESTS_PER_MINUTE = 1_000_000
    world = build_world()
    for tenant in (world.a, world.b):
        tenant_limit_set(tenant=tenant, limit="requests_per_minute", value=1_000_000, actor=ACTOR)
    return world


def staff_session(world) -> requests.Session:
    client = Client()
    client.force_login(world.staff)
    csrf = secrets.token_hex(16)
    session = requests.Session()
    session.cookies.set("sessionid", client.cookies["sessionid"].value)
    session.cookies.set("csrftoken", csrf)
    session.headers["X-CSRFToken"] = csrf
    return session


def test_provisioning_api_schema_holds_under_fuzzing(fuzz_world, live_server):
    schema = Client().get("/api/v1/schema/?format=json").json()
    failures = fuzz(schema, live_server.url, staff_session(fuzz_world))
    assert not failures, "\n\n".join(failures)


def test_decision_api_schema_holds_under_fuzzing(fuzz_world, live_server):
    schema = Client().get("/api/decide/openapi.json").json()
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {fuzz_world.b_admin_raw}"
    failures = fuzz(schema, live_server.url, session)
    assert not failures, "\n\n".join(failures)
