"""Property-based fuzzing of both OpenAPI schemas with schemathesis against a live server.

Every operation gets generated requests (valid and invalid); the server must never answer 5xx, and
every answer must match the schema: documented status, content type, headers and body. Date-time values are
drawn with the extremes (0001-01-01 at +14:00, 9999-12-31 at -14:00) among them, and every operation also gets
hostile values in each path and query parameter (Unicode digits such as '²', numbers beyond 64 bits, extreme
datetimes) and a body over DATA_UPLOAD_MAX_MEMORY_SIZE, answered in the one error shape and never with a 5xx.
Budget: API_FUZZ_EXAMPLES examples per operation (default 25: about 80 s for both APIs on a 2-core box).
"""

import json
import os
import secrets
from datetime import timedelta, timezone

import pytest
import requests
import schemathesis
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
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

EXTREME_DATETIMES = ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00Z",
                     "9999-12-31T23:59:59.999999Z"]
HOSTILE_VALUES = ["²", "١٢", "٣٤٥", "9" * 30, "-9" * 10, "1e309", *EXTREME_DATETIMES[:2]]
UPLOAD_LIMIT = 4096
_OFFSETS = st.integers(min_value=-14 * 60, max_value=14 * 60).map(lambda m: timezone(timedelta(minutes=m)))
# Every date-time the fuzzer generates: ordinary ones with any offset up to ±14:00, and the extremes.
schemathesis.openapi.format("date-time", st.one_of(
    st.sampled_from(EXTREME_DATETIMES),
    st.datetimes(timezones=_OFFSETS).map(lambda moment: moment.isoformat()),
))


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


def _operations(schema_dict: dict):
    for path, item in schema_dict["paths"].items():
        shared = item.get("parameters", [])
        for method, operation in item.items():
            if method in ("get", "post", "put", "patch", "delete"):
                yield path, method, [*shared, *operation.get("parameters", [])], "requestBody" in operation


def _hostile_requests(schema_dict: dict):
    """(label, method, path, query, body) for each hostile value in each parameter, and one oversized body."""
    for path, method, parameters, has_body in _operations(schema_dict):
        path_names = [p["name"] for p in parameters if p["in"] == "path"]
        query_names = [p["name"] for p in parameters if p["in"] == "query"]
        for value in HOSTILE_VALUES:
            filled = path
            for name in path_names:
                filled = filled.replace("{" + name + "}", requests.utils.quote(value, safe=""))
            if path_names:
                yield f"{method.upper()} {path} path={value!r}", method, filled, {}, None
            for name in query_names:
                yield f"{method.upper()} {path} {name}={value!r}", method, filled, {name: value}, None
        if has_body:
            oversized = json.dumps({"name": "x" * (2 * UPLOAD_LIMIT), "slug": "big"})
            yield f"{method.upper()} {path} oversized body", method, path.replace("{", "").replace("}", ""), {}, oversized


def fuzz_hostile(schema_dict: dict, base_url: str, session: requests.Session) -> tuple[list[str], int]:
    """Failures (5xx, or a 4xx outside the one error shape) and how many bodies were refused with 413."""
    failures, refused_as_too_large = [], 0
    for label, method, path, query, body in _hostile_requests(schema_dict):
        response = session.request(method, base_url + path, params=query, data=body, timeout=30,
                                   headers={"Content-Type": "application/json"} if body else {})
        if response.status_code >= 500:
            failures.append(f"{label}: {response.status_code} {response.text[:300]}")
        elif response.status_code >= 400 and "code" not in _json(response):
            failures.append(f"{label}: {response.status_code} outside the error shape: {response.text[:300]}")
        refused_as_too_large += response.status_code == 413
    return failures, refused_as_too_large


def _json(response) -> dict:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


@pytest.fixture
def fuzz_world(live_server, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = UPLOAD_LIMIT
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


def test_provisioning_api_answers_hostile_values_and_oversized_bodies_cleanly(fuzz_world, live_server):
    schema = Client().get("/api/v1/schema/?format=json").json()
    failures, refused = fuzz_hostile(schema, live_server.url, staff_session(fuzz_world))
    assert not failures, "\n".join(failures)
    assert refused >= 10  # the creates and updates read the body: 413, not a 500


def test_decision_api_answers_hostile_values_and_oversized_bodies_cleanly(fuzz_world, live_server):
    schema = Client().get("/api/decide/openapi.json").json()
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {fuzz_world.b_admin_raw}"
    failures, refused = fuzz_hostile(schema, live_server.url, session)
    assert not failures, "\n".join(failures)
    assert refused >= 1
