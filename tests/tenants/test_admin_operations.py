"""The operator pages: overview (what needs attention), tenant page (status buttons, quota bars, charts)."""

import datetime
from unittest import mock

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from mcpbridge import overview, tenant_usage
from mcpbridge.models import McpSession, OutboxEvent, QuotaUsage
from mcpbridge.server.telemetry import METRIC_TOOL_CALLS, METRIC_TOOL_REFUSED
from mcpbridge.services.quotas import quota_release, quota_reserve
from tenants.limits import Limit
from tenants.models import AuditEvent, Tenant, UsageCounter
from tenants.models.audit import AuditAction, AuditOutcome
from tenants.services import Actor, audit_record, tenant_limit_set, tenant_suspend, usage_increment
from tenants.services.refusals import AuthRefusal, RefusalDoor, audit_refusals
from tests.factories import ACTOR, make_key, make_member, make_tenant

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client):
    user = get_user_model().objects.create_superuser("root", "root@example.com", "pw")
    client.force_login(user)
    return user


def _tool_call(tenant, outcome=AuditOutcome.OK, when=None, **details):
    # Audit rows are append-only (a trigger refuses updates), so an older row is written at an older clock.
    with mock.patch("django.utils.timezone.now", return_value=when or timezone.now()):
        return audit_record(
            actor=Actor("key:test", channel=AuditAction.TOOL_CALL),
            target="tool:kv_get",
            tenant_id=tenant.id,
            outcome=outcome,
            details={"tool": "kv_get", **details},
        )


def _populate_overview(n: int):
    """n tenants with traffic, quota use, refusals, sessions and outbox entries each."""
    for i in range(n):
        tenant = make_tenant()
        member = make_member(tenant)
        key, _ = make_key(member)
        usage_increment(tenant_id=tenant.id, metric=METRIC_TOOL_CALLS, amount=10 + i)
        quota_reserve(tenant_id=tenant.id, limit=Limit.KV_ITEMS, amount=9_000, maximum=10_000)
        _tool_call(tenant, AuditOutcome.RATE_LIMITED, limit=Limit.REQUESTS_PER_MINUTE, reason="rate_limited")
        McpSession.objects.create(tenant=tenant, membership=member, api_key=key, transport="http")
        OutboxEvent.objects.create(tenant_id=tenant.id, bus="tenant", source="t", detail_type="x", detail={})


def test_overview_shows_what_needs_attention(client, staff):
    busy, quiet, full = make_tenant("busy"), make_tenant("quiet"), make_tenant("full")
    tenant_suspend(tenant=quiet, actor=ACTOR)
    usage_increment(tenant_id=busy.id, metric=METRIC_TOOL_CALLS, amount=500)
    usage_increment(tenant_id=busy.id, metric=METRIC_TOOL_REFUSED, amount=7)
    usage_increment(tenant_id=full.id, metric=METRIC_TOOL_CALLS, amount=3)
    # Yesterday's calls do not make anyone busy today.
    usage_increment(tenant_id=quiet.id, metric=METRIC_TOOL_CALLS, amount=9_999, day=timezone.now().date() - datetime.timedelta(days=1))
    tenant_limit_set(tenant=full, limit=Limit.SECRETS_COUNT, value=5, actor=ACTOR)
    quota_reserve(tenant_id=full.id, limit=Limit.SECRETS_COUNT, amount=4, maximum=5)
    _tool_call(busy, AuditOutcome.QUOTA_EXCEEDED, limit=Limit.STORAGE_BYTES, reason="quota_exceeded")
    _tool_call(busy, AuditOutcome.DENIED, reason="capability_denied")
    _tool_call(busy, AuditOutcome.DENIED, reason="capability_denied")
    _tool_call(busy, AuditOutcome.DENIED, reason="capability_denied", when=timezone.now() - datetime.timedelta(hours=2))
    OutboxEvent.objects.create(tenant_id=busy.id, bus="tenant", source="t", detail_type="x", detail={})
    member = make_member(busy)
    McpSession.objects.create(tenant=busy, membership=member, transport="stdio")
    McpSession.objects.create(tenant=busy, membership=member, transport="http", ended_at=timezone.now())

    page = client.get(reverse("admin-overview"))

    assert page.status_code == 200
    ctx = page.context
    assert [(s, n) for s, _, n in ctx["tenants_by_status"]] == [
        ("active", 2), ("suspended", 1), ("offboarding", 0), ("offboarded", 0)
    ]
    assert [(t.slug, t.calls, t.refused) for t in ctx["busiest"]] == [("busy", 500, 7), ("full", 3, 0)]
    assert [(p.slug, p.limit, p.used, p.maximum, p.percent) for p in ctx["near_limit"]] == [
        ("full", "secrets_count", 4, 5, 80)
    ]
    assert [(r.outcome, r.reason, r.count) for r in ctx["refusals"]] == [
        ("denied", "capability_denied", 2), ("quota_exceeded", "quota_exceeded", 1)
    ]
    # Lifecycle events of the tenants above wait in the outbox too (no drain runs in this test).
    assert ctx["outbox"].pending == OutboxEvent.objects.filter(status="pending").count() >= 1
    assert ctx["outbox"].oldest_pending_at is not None
    assert ctx["sessions_total"] == 1 and dict(ctx["sessions"]) == {"stdio": 1, "Streamable HTTP": 0}
    html = page.content.decode()
    assert "Busiest tenants today" in html and reverse("admin:tenants_tenant_change", args=[busy.pk]) in html


def test_overview_counts_every_refusal_an_aggregated_row_stands_for(client, staff):
    # Authentication refusals are kept as one row per minute, door, reason and source with a count: 40 refused
    # bearer tokens from one address are one row that says 40, and the overview must say 40, not 1.
    tenant = make_tenant("hammered")
    refusal = AuthRefusal.now(door=RefusalDoor.MCP_HTTP, reason="unknown", address="203.0.113.9", tenant_id=tenant.id)
    audit_refusals({refusal: 40})
    _tool_call(tenant, AuditOutcome.DENIED, reason="unknown")

    refusals = client.get(reverse("admin-overview")).context["refusals"]

    assert [(r.outcome, r.reason, r.count) for r in refusals] == [("denied", "unknown", 41)]
    assert AuditEvent.objects.filter(outcome=AuditOutcome.DENIED).count() == 2


def test_overview_is_linked_from_the_admin_index(client, staff):
    assert reverse("admin-overview") in client.get(reverse("admin:index")).content.decode()


def test_overview_queries_do_not_grow_with_tenants(client, staff):
    _populate_overview(2)
    with CaptureQueriesContext(connection) as small:
        assert client.get(reverse("admin-overview")).status_code == 200
    _populate_overview(20)
    with CaptureQueriesContext(connection) as large:
        page = client.get(reverse("admin-overview"))
    assert len(large) == len(small) <= 15
    assert len(page.context["near_limit"]) == 25  # capped: 22 at their KV quota, 22 refused by a rate budget


def test_overview_needs_tenant_view_permission(client):
    clerk = get_user_model().objects.create_user("clerk", password="pw", is_staff=True)
    client.force_login(clerk)
    assert client.get(reverse("admin-overview")).status_code == 403
    clerk.user_permissions.add(Permission.objects.get(codename="view_tenant"))
    assert client.get(reverse("admin-overview")).status_code == 200


def test_near_limit_starts_at_80_percent_of_the_limit_in_force():
    below, at, overridden = make_tenant(), make_tenant(), make_tenant()
    quota_reserve(tenant_id=below.id, limit=Limit.KV_ITEMS, amount=7_999, maximum=10_000)
    quota_reserve(tenant_id=at.id, limit=Limit.KV_ITEMS, amount=8_000, maximum=10_000)
    # The plan allows 10,000 items; this tenant's override allows 100, so 90 items is 90 %.
    tenant_limit_set(tenant=overridden, limit=Limit.KV_ITEMS, value=100, actor=ACTOR)
    quota_reserve(tenant_id=overridden.id, limit=Limit.KV_ITEMS, amount=90, maximum=100)
    near = {(p.slug, p.limit): p.percent for p in overview.tenants_near_limit()}
    assert near == {(overridden.slug, "kv_items"): 90, (at.slug, "kv_items"): 80}


def test_near_limit_counts_last_minute_calls_against_requests_per_minute():
    hot, warm = make_tenant(), make_tenant()
    tenant_limit_set(tenant=hot, limit=Limit.REQUESTS_PER_MINUTE, value=5, actor=ACTOR)
    tenant_limit_set(tenant=warm, limit=Limit.REQUESTS_PER_MINUTE, value=5, actor=ACTOR)
    for _ in range(4):
        _tool_call(hot)
    for _ in range(3):
        _tool_call(warm)
    _tool_call(warm, when=timezone.now() - datetime.timedelta(minutes=5))
    near = [(p.slug, p.limit, p.used, p.maximum) for p in overview.tenants_near_limit()]
    assert near == [(hot.slug, "requests_per_minute", 4, 5)]


def test_tenant_page_shows_status_buttons_quota_bars_sessions_and_audit(client, staff):
    tenant = make_tenant("acme")
    tenant_limit_set(tenant=tenant, limit=Limit.STORAGE_BYTES, value=1000, actor=ACTOR)
    quota_reserve(tenant_id=tenant.id, limit=Limit.STORAGE_BYTES, amount=850, maximum=1000)
    member = make_member(tenant)
    McpSession.objects.create(tenant=tenant, membership=member, transport="http", client_name="inspector")
    page = client.get(reverse("admin:tenants_tenant_change", args=[tenant.pk]))
    assert page.status_code == 200
    bars = {bar.limit: bar for bar in page.context["quota_bars"]}
    assert set(bars) == set(Limit.values)
    storage = bars[Limit.STORAGE_BYTES]
    assert (storage.used, storage.maximum, storage.overridden, storage.percent, storage.near) == (850, 1000, True, 85, True)
    assert bars[Limit.MAX_MCP_SESSIONS].used == 1
    assert bars[Limit.MAX_ARTIFACT_BYTES].used is None  # a per-item size has no running total
    assert page.context["status_actions"] == ["suspend", "offboard"]
    html = page.content.decode()
    assert "850\xa0bytes / 1000\xa0bytes (85 %)" in html and "inspector" in html
    assert reverse("admin:tenants_tenant_chart", args=[tenant.pk, "tool-calls"]) in html
    assert reverse("admin:tenants_tenant_status", args=[tenant.pk, "suspend"]) in html


def test_suspend_and_resume_buttons_call_the_audited_services(client, staff):
    tenant = make_tenant("acme")
    change = reverse("admin:tenants_tenant_change", args=[tenant.pk])
    assert client.get(reverse("admin:tenants_tenant_status", args=[tenant.pk, "suspend"])).status_code == 405
    response = client.post(reverse("admin:tenants_tenant_status", args=[tenant.pk, "suspend"]))
    assert response.status_code == 302 and response.url == change
    tenant.refresh_from_db()
    assert tenant.status == Tenant.Status.SUSPENDED
    assert AuditEvent.objects.filter(tenant=tenant, actor="user:root", details__operation="tenant.suspend").exists()
    assert client.get(change).context["status_actions"] == ["resume", "offboard"]
    followed = client.post(reverse("admin:tenants_tenant_status", args=[tenant.pk, "resume"]), follow=True)
    tenant.refresh_from_db()
    assert tenant.status == Tenant.Status.ACTIVE
    assert "Resumed acme" in followed.content.decode()
    assert AuditEvent.objects.filter(tenant=tenant, actor="user:root", details__operation="tenant.resume").exists()


def test_offboard_needs_the_typed_slug(client, staff):
    tenant = make_tenant("acme")
    url = reverse("admin:tenants_tenant_status", args=[tenant.pk, "offboard"])
    confirm = client.get(url)
    assert confirm.status_code == 200 and "Type <strong>acme</strong> to confirm" in confirm.content.decode()
    client.post(url, {"confirm_slug": "acm"})
    tenant.refresh_from_db()
    assert tenant.status == Tenant.Status.ACTIVE
    client.post(url, {"confirm_slug": "acme"})
    tenant.refresh_from_db()
    assert tenant.status == Tenant.Status.OFFBOARDING
    # A transition the status does not allow is refused with the service's own message, not an error page.
    refused = client.post(reverse("admin:tenants_tenant_status", args=[tenant.pk, "suspend"]), follow=True)
    assert "it can become suspended only from active" in refused.content.decode()


def test_status_buttons_need_csrf_and_change_permission(client):
    tenant = make_tenant("acme")
    viewer = get_user_model().objects.create_user("viewer", password="pw", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_tenant"))
    client.force_login(viewer)
    page = client.get(reverse("admin:tenants_tenant_change", args=[tenant.pk]))
    assert page.status_code == 200 and page.context["status_actions"] == []
    assert client.post(reverse("admin:tenants_tenant_status", args=[tenant.pk, "suspend"])).status_code == 403
    root = get_user_model().objects.create_superuser("root", "root@example.com", "pw")
    client.force_login(root)
    client.handler.enforce_csrf_checks = True
    assert client.post(reverse("admin:tenants_tenant_status", args=[tenant.pk, "suspend"])).status_code == 403
    tenant.refresh_from_db()
    assert tenant.status == Tenant.Status.ACTIVE


def test_tool_calls_per_day_by_outcome_over_30_days():
    tenant, other = make_tenant(), make_tenant()
    now = timezone.now()
    _tool_call(tenant)
    _tool_call(tenant)
    _tool_call(tenant, AuditOutcome.DENIED)
    _tool_call(tenant, when=now - datetime.timedelta(days=3))
    _tool_call(tenant, when=now - datetime.timedelta(days=31))  # outside the window
    _tool_call(other)
    series = tenant_usage.tenant_tool_calls_per_day(tenant=tenant)
    assert set(series) == {"ok", "denied"} and all(len(s) == 30 for s in series.values())
    assert series["ok"][-1] == 2 and series["ok"][-4] == 1 and sum(series["ok"]) == 3
    assert series["denied"][-1] == 1 and sum(series["denied"]) == 1


def test_storage_history_is_recorded_on_every_change_and_carried_over_quiet_days():
    tenant = make_tenant()
    today = timezone.now().date()
    quota_reserve(tenant_id=tenant.id, limit=Limit.STORAGE_BYTES, amount=300, maximum=10_000)
    quota_release(tenant_id=tenant.id, limit=Limit.STORAGE_BYTES, amount=100)
    assert UsageCounter.objects.get(tenant=tenant, metric=Limit.STORAGE_BYTES, day=today).value == 200
    UsageCounter.objects.create(tenant=tenant, metric=Limit.STORAGE_BYTES, day=today - datetime.timedelta(days=40), value=50)
    UsageCounter.objects.create(tenant=tenant, metric=Limit.STORAGE_BYTES, day=today - datetime.timedelta(days=10), value=120)
    series = tenant_usage.tenant_storage_per_day(tenant=tenant)
    assert len(series) == 30
    assert series[0] == 50 and series[-12] == 50 and series[-11] == 120 and series[-2] == 120 and series[-1] == 200


def test_charts_are_svg_images_without_script_under_a_narrow_policy(client, staff):
    tenant = make_tenant()
    _tool_call(tenant)
    _tool_call(tenant, AuditOutcome.RATE_LIMITED)
    quota_reserve(tenant_id=tenant.id, limit=Limit.STORAGE_BYTES, amount=5 * 1024 * 1024, maximum=2**30)
    for chart, expected in (("tool-calls", ("OK", "Rate limited")), ("storage", ("Stored", "Limit", "GiB"))):
        response = client.get(reverse("admin:tenants_tenant_chart", args=[tenant.pk, chart]))
        assert response.status_code == 200
        assert response["Content-Type"].startswith("image/svg+xml")
        assert response["Content-Security-Policy"].startswith("default-src 'none'")
        svg = response.content.decode()
        assert "<svg" in svg and "<script" not in svg and "http://kozea" not in svg.replace("<!--http://pygal.org-->", "")
        for text in expected:
            assert text in svg
    assert client.get(reverse("admin:tenants_tenant_chart", args=[tenant.pk, "nope"])).status_code == 404


def test_quota_usage_row_for_quotas_is_used_by_the_bars():
    tenant = make_tenant()
    QuotaUsage.objects.create(tenant=tenant, metric=Limit.EVENTS_PER_MONTH, period="2000-01", used=99)
    quota_reserve(tenant_id=tenant.id, limit=Limit.EVENTS_PER_MONTH, amount=7, maximum=100)
    bars = {bar.limit: bar for bar in tenant_usage.tenant_quota_bars(tenant=tenant)}
    assert bars[Limit.EVENTS_PER_MONTH].used == 7  # this month's row, not an old month's
