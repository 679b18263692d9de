"""Cost of one policy resolution, cold (cache miss), from the shared cache only, and cached (the process's own copy in
front of the shared cache), against a bare primary-key read.

Run: .venv/bin/python bench/policy_resolution.py  [DATABASE_URL=... to use PostgreSQL]
Prints p50/p99 in microseconds and ratios to the baseline measured in the same run.
"""

import os

from support import setup_django
from support import timed as measure

setup_django("bench-policy-")

from django.core.cache import cache  # noqa: E402

from tenants.models import ApiKey, Plan, Role  # noqa: E402
from tenants.policy import resolve_api_key  # noqa: E402
from tenants.policy.resolver import forget_recent  # noqa: E402
from tenants.services import Actor, api_key_issue, membership_add, org_membership_add, organization_create, tenant_create  # noqa: E402

N = int(os.environ.get("BENCH_N", "2000"))


def timed(fn, n=N):
    return measure(fn, n)


def main():
    from django.contrib.auth import get_user_model

    actor = Actor("bench")
    tenant = tenant_create(slug="bench", name="Bench", plan=Plan.objects.get(slug="standard"), actor=actor)
    org = organization_create(tenant=tenant, slug="org", name="Org", actor=actor)
    user = get_user_model().objects.create_user("bench-user")
    membership = membership_add(tenant=tenant, user=user, role=Role.objects.get(slug="user"), actor=actor)
    org_membership_add(organization=org, membership=membership, role=Role.objects.get(slug="viewer"), actor=actor)
    key, raw = api_key_issue(membership=membership, name="bench", actor=actor)

    baseline = timed(lambda: ApiKey.objects.filter(pk=key.pk).values_list("prefix", flat=True).first())

    def cold():
        cache.clear()
        forget_recent()
        resolve_api_key(raw)

    def shared_cache_only():
        forget_recent()
        resolve_api_key(raw)

    cold_t = timed(cold)
    resolve_api_key(raw)
    shared_t = timed(shared_cache_only)
    resolve_api_key(raw)
    cached_t = timed(lambda: resolve_api_key(raw))
    cached_org_t = timed(lambda: resolve_api_key(raw, org="org"))
    from django.db import connection

    vendor = connection.vendor
    print(f"policy resolution on {vendor}, {N} samples each (microseconds)")
    print(f"  baseline: one ORM primary-key read p50 {baseline[0]:8.1f}  p99 {baseline[1]:8.1f}")
    rows = (("cold (cache miss)", cold_t), ("shared cache only", shared_t), ("cached", cached_t),
            ("cached, org context", cached_org_t))
    for name, (p50, p99) in rows:
        print(f"  {name:<35}  p50 {p50:8.1f}  p99 {p99:8.1f}  ({p50 / baseline[0]:.1f}x baseline p50)")
    print(f"  cold / cached p50 ratio: {cold_t[0] / cached_t[0]:.1f}x")


if __name__ == "__main__":
    main()
