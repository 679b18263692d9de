"""The audit list as an operator reads it: one line per event, filters, CSV export of every matching row, and
service-driven admin actions in the objects' History."""

import csv
import io
import tracemalloc
from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync
from django.contrib.admin.models import LogEntry
from django.contrib.auth import get_user_model
from django.test import AsyncClient
from django.urls import reverse
from django.utils import timezone

from tenants.admin.audit_export import audit_csv_lines
from tenants.models import AuditEvent, Role
from tenants.services import Actor, audit_record
from tests.factories import make_key, make_member, make_tenant

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:tenants_auditevent_changelist"
EXPORT = "admin:tenants_auditevent_export"


@pytest.fixture
def staff(client):
    user = get_user_model().objects.create_superuser("root", "root@example.com", "pw")
    client.force_login(user)
    return user


def _rows(response) -> list[dict]:
    body = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(body)))


def test_each_row_says_what_happened(client, staff):
    tenant = make_tenant("acme")
    client.post(reverse("admin:tenants_tenant_changelist"), {"action": "suspend_tenants", "_selected_action": [tenant.pk]})
    page = client.get(reverse(CHANGELIST)).content.decode()
    assert "suspended tenant acme" in page
    assert "created tenant acme" in page


def test_filters_by_tenant_actor_action_outcome_and_time(client, staff):
    acme, other = make_tenant("acme"), make_tenant("other")
    audit_record(actor=Actor("key:cpk_aaaa1111", channel="tool_call"), target="tool:kv_set", tenant_id=acme.id,
                 outcome="denied", details={"tool": "kv_set", "reason": "capability_missing"})
    audit_record(actor=Actor("key:cpk_bbbb2222", channel="tool_call"), target="tool:kv_get", tenant_id=other.id,
                 details={"tool": "kv_get"})

    def shown(**params):
        return client.get(reverse(CHANGELIST), params).content.decode()

    page = shown(tenant_slug="acme")
    assert "kv_set denied: capability_missing" in page and "called kv_get" not in page
    page = shown(actor_is="cpk_bbbb2222")
    assert "called kv_get" in page and "kv_set denied" not in page
    page = shown(action__exact="tool_call", outcome__exact="denied")
    assert "kv_set denied" in page and "called kv_get" not in page and "created tenant" not in page
    tomorrow = (timezone.now() + timedelta(days=1)).date().isoformat()
    assert "kv_set denied" not in shown(since=tomorrow)
    assert "kv_set denied" in shown(until=tomorrow, tenant_slug="acme")
    yesterday = (timezone.now() - timedelta(days=1)).date().isoformat()
    assert "kv_set denied" not in shown(until=yesterday)


def test_an_unreadable_time_is_ignored_with_a_message(client, staff):
    make_tenant("acme")
    response = client.get(reverse(CHANGELIST), {"since": "last tuesday"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "Ignored time from" in page and "created tenant acme" in page


def test_export_streams_every_matching_row_with_the_list_filters(client, staff, settings):
    settings.DEBUG = False
    acme, other = make_tenant("acme"), make_tenant("other")
    events = [
        dict(actor=Actor("key:cpk_aaaa1111", channel="tool_call"), target="tool:kv_set", tenant_id=acme.id,
             details={"tool": "kv_set"})
        for _ in range(250)
    ]
    AuditEvent.objects.bulk_create([AuditEvent(actor=e["actor"].label, action="tool_call", target=e["target"],
                                               tenant_id=e["tenant_id"], outcome="ok", details=e["details"])
                                    for e in events])
    audit_record(actor=Actor("key:cpk_bbbb2222", channel="tool_call"), target="tool:kv_get", tenant_id=other.id,
                 details={"tool": "kv_get"})
    response = client.get(reverse(EXPORT), {"tenant_slug": "acme", "action__exact": "tool_call"})
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith('attachment; filename="audit-')
    rows = _rows(response)
    assert len(rows) == 250  # more than one page of the list (100): every matching row, not the page
    assert {row["summary"] for row in rows} == {"called kv_set"}
    assert {row["tenant"] for row in rows} == {"acme"}


def test_export_under_asgi_streams_from_an_async_iterator(staff):
    """Under ASGI Django would buffer a synchronous iterator whole; the export hands it an async one."""
    tenant = make_tenant("acme")
    audit_record(actor=Actor("key:cpk_aaaa1111", channel="tool_call"), target="tool:kv_set", tenant_id=tenant.id,
                 details={"tool": "kv_set"})
    asgi = AsyncClient()
    asgi.force_login(staff)
    response = async_to_sync(asgi.get)(reverse(EXPORT), {"tenant_slug": "acme"})
    assert response.status_code == 200 and response.is_async

    async def body():
        return b"".join([part async for part in response.streaming_content]).decode()

    rows = list(csv.DictReader(io.StringIO(async_to_sync(body)())))
    assert [row["summary"] for row in rows] == ["called kv_set", "created tenant acme"]


def test_export_neutralises_spreadsheet_formulas(client, staff):
    tenant = make_tenant("acme")
    audit_record(actor=Actor("=HYPERLINK(\"http://evil\")"), target="@SUM(A1)", tenant_id=tenant.id)
    rows = _rows(client.get(reverse(EXPORT), {"tenant_slug": "acme"}))
    hostile = [row for row in rows if row["target"].endswith("SUM(A1)")][0]
    assert hostile["target"] == "'@SUM(A1)" and hostile["actor"].startswith("'=")


def _peak_bytes(rows: int) -> int:
    AuditEvent.objects.bulk_create(
        [AuditEvent(actor="key:cpk_aaaa1111", action="tool_call", target="tool:kv_set", outcome="ok",
                    details={"tool": "kv_set", "context": "personal"}) for _ in range(rows - AuditEvent.objects.count())],
        batch_size=5000,
    )
    tracemalloc.start()
    try:
        lines = sum(1 for _ in audit_csv_lines(AuditEvent.objects.all()))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert lines == rows + 1
    return peak


def test_export_memory_does_not_grow_with_rows():
    """Ten times the rows, about the same peak: rows are read in chunks and written as they come."""
    small = _peak_bytes(5_000)
    large = _peak_bytes(50_000)
    assert large < small * 2, (small, large)


def test_export_needs_staff(client):
    user = get_user_model().objects.create_user("clerk", password="pw")
    client.force_login(user)
    response = client.get(reverse(EXPORT))
    assert response.status_code == 302 and "/login/" in response["Location"]


def _history(obj) -> list[str]:
    return [entry.get_change_message() for entry in LogEntry.objects.filter(object_id=str(obj.pk))]


def test_suspend_and_resume_appear_in_the_tenant_history(client, staff):
    tenant = make_tenant("acme")
    url = reverse("admin:tenants_tenant_changelist")
    client.post(url, {"action": "suspend_tenants", "_selected_action": [tenant.pk]})
    client.post(url, {"action": "resume_tenants", "_selected_action": [tenant.pk]})
    assert set(_history(tenant)) == {"suspended tenant acme", "resumed tenant acme"}
    page = client.get(reverse("admin:tenants_tenant_history", args=[tenant.pk])).content.decode()
    assert "suspended tenant acme" in page
    recent = client.get(reverse("admin:index")).content.decode()  # "Recent actions" links the changed tenant
    assert reverse("admin:tenants_tenant_change", args=[tenant.pk]) in recent


def test_revoke_appears_in_the_key_history(client, staff):
    key, _ = make_key(make_member(make_tenant()))
    client.post(reverse("admin:tenants_apikey_changelist"), {"action": "revoke_keys", "_selected_action": [key.pk]})
    assert _history(key) == [f"revoked key {key.prefix}…"]


def test_a_refused_action_leaves_no_history(client, staff):
    tenant = make_tenant("acme")
    url = reverse("admin:tenants_tenant_changelist")
    client.post(url, {"action": "offboard_tenants", "_selected_action": [tenant.pk]})
    before = _history(tenant)
    client.post(url, {"action": "suspend_tenants", "_selected_action": [tenant.pk]})  # offboarding: refused
    assert _history(tenant) == before


def test_a_role_change_in_the_tenant_form_reads_as_the_audit_says(client, staff):
    tenant = make_tenant("acme")
    member = make_member(tenant, role="user", username="alice")
    url = reverse("admin:tenants_tenant_change", args=[tenant.pk])
    form = {
        "slug": "acme", "name": tenant.name, "plan": tenant.plan_id, "registration_data": "{}",
        "organizations-TOTAL_FORMS": 0, "organizations-INITIAL_FORMS": 0,
        "memberships-TOTAL_FORMS": 1, "memberships-INITIAL_FORMS": 1,
        "memberships-0-id": member.pk, "memberships-0-tenant": tenant.pk, "memberships-0-user": member.user_id,
        "memberships-0-role": Role.objects.get(slug="viewer").pk,
        "limit_overrides-TOTAL_FORMS": 0, "limit_overrides-INITIAL_FORMS": 0,
    }
    response = client.post(url, form)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert _history(tenant) == ["changed role of alice to viewer"]
