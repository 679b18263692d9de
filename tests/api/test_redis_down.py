"""Both APIs while the Redis behind their rate limits is down (a throwaway redis-server the test kills): the
limit fails closed with 503 and Retry-After in the one error shape, never a 500, and recovers with Redis."""

import json

import pytest
from django.test import Client

from tests.api.conftest import client_for
from tests.faults.redis_server import redis_rate_limits, redis_server  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db


def _decide(raw):
    return Client().post("/api/decide/v1/check", data=json.dumps({"tool": "kv_get"}), content_type="application/json",
                         HTTP_AUTHORIZATION=f"Bearer {raw}")


def test_apis_answer_503_with_retry_after_while_redis_is_down_and_recover(world, redis_rate_limits, caplog):
    rest = client_for(world, "tenant_admin")
    assert rest.get("/api/v1/organizations/").status_code == 200
    assert _decide(world.b_user_raw).status_code == 200
    redis_rate_limits.kill()
    for _ in range(3):
        answer = rest.get("/api/v1/organizations/")
        assert answer.status_code == 503 and answer["Retry-After"] == "1"
        assert answer.json()["code"] == "limits_unavailable"
        decision = _decide(world.b_user_raw)
        assert decision.status_code == 503 and decision["Retry-After"] == "1"
        assert decision.json()["code"] == "limits_unavailable"
    assert sum(" is unavailable (" in r.getMessage() for r in caplog.records) == 1
    assert not any(r.exc_info for r in caplog.records)
    redis_rate_limits.start()
    assert rest.get("/api/v1/organizations/").status_code == 200
    assert _decide(world.b_user_raw).status_code == 200
