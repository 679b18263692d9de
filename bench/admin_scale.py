"""Admin pages at a million rows: server time and query count of every changelist, its searches and filters,
and the change page of a tenant with thousands of members, on a small data set and then a large one.

PostgreSQL only, and only on a throwaway database (it empties the tenancy tables first):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/<throwaway> .venv/bin/python bench/admin_scale.py --reset

Rows are written with COPY, so the default large set (10,000 tenants, 100,000 keys, 1,000,000 audit rows,
1,000,000 usage rows, 100,000 sessions, a tenant of 2,000 members) builds in minutes. The small set is the large
one divided by --small-divisor. Times are the Django test client in-process (URL routing, middleware, admin,
template rendering, database), median of --repeat requests after one warm-up.
"""

import argparse
import datetime
import itertools
import os
import statistics
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.support import setup_django  # noqa: E402

TOOLS = ("kv_get", "kv_set", "kv_list", "artifacts_put", "events_send", "secrets_get")
OUTCOMES = ("ok",) * 17 + ("denied", "rate_limited", "invalid")
PROTOCOLS = ("2025-03-26", "2025-06-18", "2025-11-25")
USAGE_METRICS = ("mcp_tool_calls", "mcp_tool_refused")
CROWD = "crowd"


@dataclass(frozen=True)
class Sizes:
    tenants: int
    keys: int
    audit: int
    usage: int
    sessions: int
    crowd: int

    def divided(self, by: int) -> "Sizes":
        return Sizes(*(max(1, value // by) for value in vars(self).values()))


def copy_rows(model, rows) -> int:
    """COPY dicts of column values into the model's table; returns how many."""
    from django.db import connection

    rows = iter(rows)
    first = next(rows, None)
    if first is None:
        return 0
    columns = list(first)
    names = ", ".join(connection.ops.quote_name(c) for c in columns)
    count = 0
    with connection.cursor() as cursor, cursor.cursor.copy(f"COPY {model._meta.db_table} ({names}) FROM STDIN") as copy:
        for row in itertools.chain([first], rows):
            copy.write_row([row[c] for c in columns])
            count += 1
    return count


class DataSet:
    """Builds rows by index range, so the large set is the small one topped up."""

    def __init__(self):
        from tenants.models import Plan, Role

        self.plan_id = Plan.objects.get(slug="standard").pk
        self.role_id = Role.objects.get(slug="user").pk
        self.now = datetime.datetime.now(datetime.UTC)
        self.built = Sizes(0, 0, 0, 0, 0, 0)
        self.tenant_ids: list[uuid.UUID] = []
        self.memberships: list[tuple[uuid.UUID, uuid.UUID, int]] = []  # (membership, tenant, key index)
        self.key_ids: list[uuid.UUID] = []
        self.usage_days_used = 0  # each growth writes usage for days before the ones already written

    def grow(self, to: Sizes) -> None:
        from django.contrib.auth import get_user_model
        from django.db import connection
        from django.db.models import Q

        from mcpbridge.models import McpSession
        from tenants.models import ApiKey, AuditEvent, Membership, Tenant, UsageCounter

        started = time.perf_counter()
        copy_rows(Tenant, self._tenants(self.built.tenants, to.tenants))
        if self.built.crowd == 0:
            copy_rows(Tenant, self._tenant_rows([(uuid.uuid4(), CROWD)]))
            self.crowd_id = self.tenant_ids.pop()
        users = [(f"member-{i:07d}", i) for i in range(self.built.keys, to.keys)]
        users += [(f"crowd-{i:05d}", None) for i in range(self.built.crowd, to.crowd)]
        copy_rows(get_user_model(), (self._user(name) for name, _ in users))
        ids = dict(
            get_user_model().objects.filter(Q(username__startswith="member-") | Q(username__startswith="crowd-"))
            .values_list("username", "pk")
        )
        copy_rows(Membership, self._memberships(users, ids))
        copy_rows(ApiKey, self._keys(self.built.keys, to.keys))
        copy_rows(AuditEvent, self._audit(self.built.audit, to.audit))
        copy_rows(UsageCounter, self._usage(self.built.usage, to.usage))
        copy_rows(McpSession, self._sessions(self.built.sessions, to.sessions))
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        self.built = to
        print(f"  built {to} in {time.perf_counter() - started:.0f} s", flush=True)

    def _tenant_rows(self, pairs):
        for tenant_id, slug in pairs:
            self.tenant_ids.append(tenant_id)
            yield {
                "id": tenant_id, "slug": slug, "name": f"Tenant {slug}", "status": "active", "plan_id": self.plan_id,
                "registration_data": "{}", "provisioning_output": "{}", "status_changed_at": self.now,
                "created_at": self.now - datetime.timedelta(minutes=len(self.tenant_ids)), "updated_at": self.now,
            }

    def _tenants(self, start, end):
        return self._tenant_rows((uuid.uuid4(), f"t-{i:05d}") for i in range(start, end))

    def _user(self, username):
        return {
            "password": "!", "is_superuser": False, "username": username, "first_name": "", "last_name": "",
            "email": f"{username}@example.com", "is_staff": False, "is_active": True, "date_joined": self.now,
        }

    def _memberships(self, users, ids):
        for username, key_index in users:
            membership_id = uuid.uuid4()
            if key_index is None:
                tenant_id = self.crowd_id
            else:
                tenant_id = self.tenant_ids[key_index % len(self.tenant_ids)]
                self.memberships.append((membership_id, tenant_id, key_index))
            yield {
                "id": membership_id, "tenant_id": tenant_id, "user_id": ids[username], "role_id": self.role_id,
                "created_at": self.now,
            }

    def _keys(self, start, end):
        for membership_id, _, i in self.memberships[start:end]:
            key_id = uuid.uuid4()
            self.key_ids.append(key_id)
            yield {
                "id": key_id, "membership_id": membership_id, "name": f"key {i}", "prefix": f"mcp_{i:08d}",
                "digest": f"{i:064x}", "scopes": "null", "default_org_id": None, "expires_at": None,
                "revoked_at": self.now if i % 10 == 0 else None, "revoked_reason": "", "last_used_at": None,
                "created_at": self.now - datetime.timedelta(seconds=end - i), "created_by": "bench",
            }

    def _audit(self, start, end):
        span = 90 * 24 * 3600
        for i in range(start, end):
            membership_id, tenant_id, key = self.memberships[i % len(self.memberships)]
            yield {
                "created_at": self.now - datetime.timedelta(seconds=(i * 7919) % span), "actor": f"key:mcp_{key:08d}",
                "actor_user_id": None, "tenant_id": tenant_id, "action": "tool_call",
                "target": f"tool:{TOOLS[i % len(TOOLS)]}", "outcome": OUTCOMES[i % len(OUTCOMES)],
                "latency_ms": 1.5, "request_id": f"{i:032x}", "details": "{}", "count": 1, "bucket": None,
            }

    def _usage(self, start, end):
        tenants, first_day = len(self.tenant_ids), self.usage_days_used
        for i in range(end - start):
            day, rest = divmod(i, tenants * len(USAGE_METRICS))
            tenant, metric = divmod(rest, len(USAGE_METRICS))
            self.usage_days_used = first_day + day + 1
            yield {
                "tenant_id": self.tenant_ids[tenant], "metric": USAGE_METRICS[metric],
                "day": (self.now - datetime.timedelta(days=first_day + day)).date(), "value": i % 1000,
            }

    def _sessions(self, start, end):
        for i in range(start, end):
            membership_id, tenant_id, key = self.memberships[i % len(self.memberships)]
            started = self.now - datetime.timedelta(seconds=i * 13)
            open_ = i % 50 == 0
            yield {
                "id": uuid.uuid4(), "tenant_id": tenant_id, "membership_id": membership_id,
                "api_key_id": self.key_ids[key] if key < len(self.key_ids) else None,
                "transport": "http" if i % 3 else "stdio", "transport_session_id": uuid.uuid4().hex,
                "protocol_version": PROTOCOLS[i % len(PROTOCOLS)], "client_name": "bench", "client_version": "1",
                "started_at": started, "last_seen_at": started, "ended_at": None if open_ else started,
                "end_reason": "" if open_ else "closed", "revoke_requested_at": None, "request_count": i % 100,
            }


def pages(data: DataSet) -> list[tuple[str, str, dict]]:
    from django.urls import reverse

    def cl(name):
        return reverse(f"admin:{name}_changelist")

    week_ago = (data.now - datetime.timedelta(days=7)).isoformat()
    changelists = [
        "tenants_tenant", "tenants_organization", "tenants_membership", "tenants_orgmembership", "tenants_apikey",
        "tenants_auditevent", "tenants_usagecounter", "tenants_role", "tenants_plan", "tenants_limitoverride",
        "mcpbridge_mcpsession", "mcpbridge_outboxevent", "mcpbridge_quotausage", "mcpbridge_tenantdataplane",
    ]
    return [
        *((name.split("_", 1)[1], cl(name), {}) for name in changelists),
        ("audit search tenant slug", cl("tenants_auditevent"), {"q": "t-00042"}),
        ("audit search kv_set", cl("tenants_auditevent"), {"q": "kv_set"}),
        ("audit search actor", cl("tenants_auditevent"), {"q": "key:mcp_00000042"}),
        ("audit filter outcome=denied", cl("tenants_auditevent"), {"outcome__exact": "denied"}),
        ("audit filter last 7 days", cl("tenants_auditevent"), {"created_at__gte": week_ago}),
        ("usage search tenant slug", cl("tenants_usagecounter"), {"q": "t-00042"}),
        ("usage search metric", cl("tenants_usagecounter"), {"q": "mcp_tool_refused"}),
        ("usage filter metric", cl("tenants_usagecounter"), {"metric": "mcp_tool_refused"}),
        ("session search tenant slug", cl("mcpbridge_mcpsession"), {"q": "t-00042"}),
        ("session search username", cl("mcpbridge_mcpsession"), {"q": "member-0000042"}),
        ("session filter open", cl("mcpbridge_mcpsession"), {"state": "open"}),
        ("session filter protocol", cl("mcpbridge_mcpsession"), {"protocol_version": PROTOCOLS[0]}),
        ("key search prefix", cl("tenants_apikey"), {"q": "mcp_00000042"}),
        ("key search username", cl("tenants_apikey"), {"q": "member-0000042"}),
        ("key search tenant slug", cl("tenants_apikey"), {"q": "t-00042"}),
        ("key filter active", cl("tenants_apikey"), {"state": "active"}),
        ("membership search username", cl("tenants_membership"), {"q": "member-0000042"}),
        ("membership of crowd tenant", cl("tenants_membership"), {"tenant__id__exact": str(data.crowd_id)}),
        ("tenant search", cl("tenants_tenant"), {"q": "t-0004"}),
        ("tenant change page (crowd)", reverse("admin:tenants_tenant_change", args=[data.crowd_id]), {}),
    ]


def measure(client, url: str, params: dict, repeat: int) -> tuple[float, float, float, int]:
    """Median server time, median database time and median CPU time of this process (ms) of `repeat` requests,
    and the query count. The CPU time is what the page costs Django here whatever else the machine runs (the
    database's own CPU is in the database time)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    response = client.get(url, params)
    assert response.status_code == 200, (url, params, response.status_code)
    samples, db, cpu = [], [], []
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as queries:
            started, started_cpu = time.perf_counter(), time.process_time()
            client.get(url, params)
            samples.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - started_cpu) * 1000)
        db.append(sum(float(q["time"]) for q in queries.captured_queries) * 1000)
    return statistics.median(samples), statistics.median(db), statistics.median(cpu), len(queries)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tenants", type=int, default=10_000)
    parser.add_argument("--keys", type=int, default=100_000)
    parser.add_argument("--audit", type=int, default=1_000_000)
    parser.add_argument("--usage", type=int, default=1_000_000)
    parser.add_argument("--sessions", type=int, default=100_000)
    parser.add_argument("--crowd", type=int, default=2_000, help="members of the one big tenant")
    parser.add_argument("--small-divisor", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--target-ms", type=float, default=150.0)
    parser.add_argument("--reset", action="store_true", help="required: empties tenancy tables of this database")
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres") or not args.reset:
        sys.exit("Needs DATABASE_URL=postgres://.../<throwaway database> and --reset (the tables are emptied).")
    setup_django("bench-admin-scale-")

    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client

    settings.ALLOWED_HOSTS = ["*"]
    settings.DEBUG = False
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE tenants_tenant, auth_user, tenants_auditevent, django_session CASCADE")
    large = Sizes(args.tenants, args.keys, args.audit, args.usage, args.sessions, args.crowd)
    small = large.divided(args.small_divisor)
    data = DataSet()
    client = Client()
    client.force_login(get_user_model().objects.create_superuser("bench-root", "root@example.com", None))

    results, loads = {}, {}
    for label, sizes in (("small", small), ("large", large)):
        print(f"{label}: building", flush=True)
        data.grow(sizes)
        client.force_login(get_user_model().objects.get(username="bench-root"))
        results[label] = {name: measure(client, url, params, args.repeat) for name, url, params in pages(data)}
        loads[label] = os.getloadavg()[0]

    print(f"\nAdmin pages, PostgreSQL, server time median of {args.repeat} (ms) and queries; small = large / "
          f"{args.small_divisor}; large = {large}")
    print(f"load average (1 min) after measuring: small {loads['small']:.1f}, large {loads['large']:.1f} "
          f"on {os.cpu_count()} CPUs; on a busy machine the server time grows and the CPU time much less")
    print(f"{'page':30} {'small ms':>9} {'large ms':>9} {'ratio':>6} {'db small':>9} {'db large':>9} {'cpu small':>10}"
          f" {'cpu large':>10} {'queries':>8}  target < {args.target_ms:.0f} ms")
    over = []
    for name in results["large"]:
        (s_ms, s_db, s_cpu, s_q), (l_ms, l_db, l_cpu, l_q) = results["small"][name], results["large"][name]
        flag = "" if l_ms < args.target_ms else "  OVER"
        if flag:
            over.append(name)
        print(f"{name:30} {s_ms:9.1f} {l_ms:9.1f} {l_ms / s_ms:5.1f}x {s_db:9.1f} {l_db:9.1f} {s_cpu:10.1f} {l_cpu:10.1f}"
              f"   {s_q:3d}/{l_q:<3d}{flag}")
    print(f"\n{len(results['large']) - len(over)}/{len(results['large'])} pages under {args.target_ms:.0f} ms"
          + (f"; over: {', '.join(over)}" if over else ""))


if __name__ == "__main__":
    main()
