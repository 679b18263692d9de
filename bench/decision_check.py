"""p50/p99 of the decision endpoint (POST /api/decide/v1/check) through Django's full request stack.

Run: .venv/bin/python bench/decision_check.py  [DATABASE_URL=... to use PostgreSQL; BENCH_N=2000]
Baseline, measured in the same run: the same request without a key (routing, middleware, 401 answer).
Prints microseconds and the ratio of each case to the baseline.
"""

import json
import os

from support import setup_django
from support import timed as measure

setup_django("bench-decide-")

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

from tenants.models import Plan, Role  # noqa: E402
from tenants.services import Actor, api_key_issue, membership_add, tenant_create, tenant_limit_set, user_ensure  # noqa: E402

N = int(os.environ.get("BENCH_N", "2000"))
settings.ALLOWED_HOSTS = ["*"]


def timed(fn, n=N):
    return measure(fn, n, warmup=min(50, n))  # warm caches and connections


def main():
    actor = Actor("bench")
    tenant = tenant_create(slug="bench", name="Bench", plan=Plan.objects.get(slug="standard"), actor=actor)
    tenant_limit_set(tenant=tenant, limit="requests_per_minute", value=10_000_000, actor=actor)
    member = membership_add(tenant=tenant, user=user_ensure(username="bench"), role=Role.objects.get(slug="user"),
                            actor=actor)
    _, raw = api_key_issue(membership=member, name="bench", actor=actor)
    body = json.dumps({"tool": "kv_set"})
    keyed, anonymous = Client(HTTP_AUTHORIZATION=f"Bearer {raw}"), Client()

    def check():
        response = keyed.post("/api/decide/v1/check", data=body, content_type="application/json")
        assert response.status_code == 200, response.content

    def baseline():
        assert anonymous.post("/api/decide/v1/check", data=body, content_type="application/json").status_code == 401

    def denied():
        response = keyed.post("/api/decide/v1/check", data=json.dumps({"capability": "secrets.write"}),
                              content_type="application/json")
        assert response.json()["allowed"] is False

    base_p50, base_p99 = timed(baseline)
    print(f"database: {connection.vendor}, N={N}")
    print(f"{'case':<28}{'p50 µs':>10}{'p99 µs':>10}{'p50 / baseline':>16}")
    print(f"{'baseline (no key, 401)':<28}{base_p50:>10.0f}{base_p99:>10.0f}{1:>16.2f}")
    for name, fn in (("check allowed (kv_set)", check), ("check denied (secrets.write)", denied)):
        p50, p99 = timed(fn)
        print(f"{name:<28}{p50:>10.0f}{p99:>10.0f}{p50 / base_p50:>16.2f}")


if __name__ == "__main__":
    main()
