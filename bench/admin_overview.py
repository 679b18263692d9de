"""Server time and query count of the admin overview page, small vs large (10,000 tenants, 1,000,000 audit rows).

Run: DATABASE_URL=postgres://user@host:5432/anything .venv/bin/python bench/admin_overview.py
The bench creates a throwaway database on that server (named BENCH_DATABASE_NAME, default "<database>_overview_bench"),
fills it in bulk (COPY), and drops it at the end (BENCH_KEEP_DB=1 keeps it). PostgreSQL only: the scale figures are
about the production database. BENCH_N page loads per size (default 20), after 3 warm-up loads.

Data shape per tenant: 30 days of usage counters (tool calls, refusals, storage), 4 quota rows (about 1 in 10
tenants at 80 %+ of one), audit rows spread over 30 days (5 % refusals), some limit overrides, open sessions
and pending outbox events.
"""

import datetime
import json
import os
import random
import sys
import time
import uuid
from urllib.parse import urlsplit, urlunsplit

import psycopg

DATABASE_URL = os.environ.get("DATABASE_URL", "")
if not DATABASE_URL.startswith(("postgres://", "postgresql://")):
    sys.exit("Set DATABASE_URL to a PostgreSQL server (postgres://user@host:5432/db); the bench makes its own database.")
_url = urlsplit(DATABASE_URL)
BENCH_DB = os.environ.get("BENCH_DATABASE_NAME") or f"{_url.path.lstrip('/') or 'postgres'}_overview_bench"
ADMIN_URL = urlunsplit(_url._replace(path="/postgres"))
N = int(os.environ.get("BENCH_N", "20"))
SMALL = (100, 10_000)
LARGE = (10_000, 1_000_000)


def recreate_database() -> None:
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}"')
        conn.execute(f'CREATE DATABASE "{BENCH_DB}"')


recreate_database()
os.environ["DATABASE_URL"] = urlunsplit(_url._replace(path=f"/{BENCH_DB}"))

from support import setup_django  # noqa: E402

setup_django("bench-overview-")

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection, connections  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from mcpbridge.models import McpSession, OutboxEvent, QuotaUsage  # noqa: E402
from mcpbridge.server.telemetry import METRIC_TOOL_CALLS, METRIC_TOOL_REFUSED  # noqa: E402
from tenants.limits import Limit  # noqa: E402
from tenants.models import LimitOverride, Plan, Tenant  # noqa: E402

settings.ALLOWED_HOSTS = ["*"]
rng = random.Random(11)
TOOLS = ("kv_get", "kv_set", "kv_list", "artifacts_put", "artifacts_get", "events_send", "secrets_get")
REFUSED = (("denied", "capability_denied", None), ("rate_limited", None, "requests_per_minute"),
           ("quota_exceeded", None, "kv_items"), ("invalid", "invalid_params", None))


def add_tenants(start: int, stop: int) -> list[uuid.UUID]:
    plan = Plan.objects.get(slug="standard")
    statuses = ["active"] * 90 + ["suspended"] * 7 + ["offboarded"] * 3
    tenants = [
        Tenant(slug=f"t{i:05d}", name=f"Tenant {i}", plan=plan, status=rng.choice(statuses)) for i in range(start, stop)
    ]
    Tenant.objects.bulk_create(tenants, batch_size=2000)
    ids = [t.id for t in tenants]
    month = timezone.now().strftime("%Y-%m")
    limits = plan.limits()
    quotas = []
    for tenant_id in ids:
        hot = rng.random() < 0.1
        for limit, period in ((Limit.STORAGE_BYTES, ""), (Limit.KV_ITEMS, ""), (Limit.SECRETS_COUNT, ""),
                              (Limit.EVENTS_PER_MONTH, month)):
            share = rng.uniform(0.8, 1.0) if hot and limit == Limit.KV_ITEMS else rng.uniform(0, 0.5)
            quotas.append(QuotaUsage(tenant_id=tenant_id, metric=limit, period=period, used=int(limits[limit] * share)))
    QuotaUsage.objects.bulk_create(quotas, batch_size=5000)
    LimitOverride.objects.bulk_create(
        [LimitOverride(tenant_id=t, limit=Limit.KV_ITEMS, value=20_000) for t in ids if rng.random() < 0.1], batch_size=5000
    )
    McpSession.objects.bulk_create(
        [McpSession(tenant_id=t, transport=rng.choice(("stdio", "http"))) for t in ids if rng.random() < 0.2],
        batch_size=5000,
    )
    OutboxEvent.objects.bulk_create(
        [OutboxEvent(tenant_id=t, bus="tenant", source="bench", detail_type="kv.changed", detail={})
         for t in ids if rng.random() < 0.3],
        batch_size=5000,
    )
    today = timezone.now().date()
    with connection.cursor() as cursor, cursor.cursor.copy(
        "COPY tenants_usagecounter (tenant_id, metric, day, value) FROM STDIN"
    ) as copy:
        for tenant_id in ids:
            storage = rng.randrange(0, 10**8)
            for back in range(30):
                day = today - datetime.timedelta(days=back)
                copy.write_row((tenant_id, METRIC_TOOL_CALLS, day, rng.randrange(0, 5000)))
                copy.write_row((tenant_id, METRIC_TOOL_REFUSED, day, rng.randrange(0, 100)))
                copy.write_row((tenant_id, Limit.STORAGE_BYTES, day, storage))
    return ids


def add_audit(tenant_ids: list[uuid.UUID], rows: int) -> None:
    now = timezone.now()
    span = 30 * 24 * 3600
    with connection.cursor() as cursor, cursor.cursor.copy(
        "COPY tenants_auditevent (created_at, actor, tenant_id, action, target, outcome, latency_ms, request_id, details,"
        " count) FROM STDIN"
    ) as copy:
        for _ in range(rows):
            tool = rng.choice(TOOLS)
            details = {"tool": tool, "context": "personal"}
            outcome = "ok"
            if rng.random() < 0.05:
                outcome, reason, limit = rng.choice(REFUSED)
                details.update({k: v for k, v in (("reason", reason), ("limit", limit)) if v})
            copy.write_row((
                now - datetime.timedelta(seconds=rng.random() * span), "key:cpk_bench000", rng.choice(tenant_ids),
                "tool_call", f"tool:{tool}", outcome, rng.random() * 20, uuid.uuid4().hex, json.dumps(details), 1,
            ))


def measure(client: Client) -> tuple[float, float, list[float]]:
    for _ in range(3):
        assert client.get("/admin/overview/").status_code == 200
    samples = []
    for _ in range(N):
        start = time.perf_counter()
        client.get("/admin/overview/")
        samples.append((time.perf_counter() - start) * 1000)
    with CaptureQueriesContext(connection) as queries:
        client.get("/admin/overview/")
    samples.sort()
    return samples[len(samples) // 2], samples[-1], sorted((float(q["time"]) * 1000 for q in queries), reverse=True)


def main():
    admin = get_user_model().objects.create_superuser("bench-admin", "bench@example.com", "x")
    client = Client()
    client.force_login(admin)
    results = []
    loaded_tenants, loaded_audit, ids = 0, 0, []
    for tenants, audit_rows in (SMALL, LARGE):
        started = time.perf_counter()
        ids += add_tenants(loaded_tenants, tenants)
        add_audit(ids, audit_rows - loaded_audit)
        loaded_tenants, loaded_audit = tenants, audit_rows
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        load_s = time.perf_counter() - started
        p50, worst, query_ms = measure(client)
        results.append((tenants, audit_rows, load_s, p50, worst, query_ms, os.getloadavg()[0]))
    print(f"admin overview on PostgreSQL ({connection.pg_version // 10000}), {N} page loads per size, server time in ms")
    for tenants, audit_rows, load_s, p50, worst, query_ms, load in results:
        slowest = ", ".join(f"{ms:.0f}" for ms in query_ms[:3])
        print(f"  {tenants:>6} tenants {audit_rows:>9} audit rows (loaded in {load_s:5.1f} s): p50 {p50:6.1f}  "
              f"max {worst:6.1f}  queries {len(query_ms)} (slowest {slowest} ms)  load average {load:.1f}")


if __name__ == "__main__":
    try:
        main()
    finally:
        connections.close_all()
        if not os.environ.get("BENCH_KEEP_DB"):
            with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}"')
