"""The admin stays cheap as tables grow: bounded tenant page, searches an index answers, filters that scan nothing."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from mcpbridge.models import McpSession
from tenants.models import Membership, Role
from tenants.services import Actor, audit_record, usage_increment
from tests.factories import make_key, make_member, make_tenant, make_user

pytestmark = pytest.mark.django_db

FIRST_MEMBERS = 20  # rows the tenant page shows before pointing to the membership list


@pytest.fixture
def staff(client):
    client.force_login(get_user_model().objects.create_superuser("root", "root@example.com", "pw"))


def _add_members(tenant, n):
    role = Role.objects.get(slug="user")
    start = tenant.memberships.count()
    users = get_user_model().objects.bulk_create(
        [get_user_model()(username=f"{tenant.slug}-m{i}") for i in range(start, start + n)]
    )
    Membership.objects.bulk_create([Membership(tenant=tenant, user=user, role=role) for user in users])


def _tenant_page(client, tenant):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("admin:tenants_tenant_change", args=[tenant.pk]))
    assert response.status_code == 200
    return response, len(queries)


def test_a_tenant_with_300_members_opens_with_the_queries_of_a_small_one(client, staff):
    tenant = make_tenant("crowd")
    _add_members(tenant, 5)
    _tenant_page(client, tenant)  # warms per-process caches (content types)
    _, few = _tenant_page(client, tenant)
    _add_members(tenant, 295)
    response, many = _tenant_page(client, tenant)
    assert many == few
    assert response.context["inline_admin_formsets"][1].formset.initial_form_count() == FIRST_MEMBERS
    page = response.content.decode()
    assert f"Showing the first {FIRST_MEMBERS} of 300 members." in page
    link = re.search(r'href="([^"]*/admin/tenants/membership/\?tenant__id__exact=[^"]+)"', page).group(1)
    listed = client.get(link.replace("&amp;", "&"))
    assert listed.status_code == 200
    assert listed.context["cl"].result_count == 300
    assert {m.tenant_id for m in listed.context["cl"].result_list} == {tenant.pk}


def test_the_bounded_member_rows_still_save_a_role_change(client, staff):
    tenant = make_tenant("small")
    member = make_member(tenant, role="user")
    response, _ = _tenant_page(client, tenant)
    form = response.context["adminform"].form
    data = {
        "slug": tenant.slug, "name": tenant.name, "plan": tenant.plan_id, "registration_data": "{}",
        "organizations-TOTAL_FORMS": "0", "organizations-INITIAL_FORMS": "0",
        "memberships-TOTAL_FORMS": "1", "memberships-INITIAL_FORMS": "1",
        "memberships-0-id": member.pk, "memberships-0-tenant": tenant.pk, "memberships-0-user": member.user_id,
        "memberships-0-role": Role.objects.get(slug="viewer").pk,
        "limit_overrides-TOTAL_FORMS": "0", "limit_overrides-INITIAL_FORMS": "0",
    }
    assert form is not None
    response = client.post(reverse("admin:tenants_tenant_change", args=[tenant.pk]), data)
    assert response.status_code == 302, response.context and response.context["errors"]
    member.refresh_from_db()
    assert member.role.slug == "viewer"


def _audit(tenant, target, actor="system"):
    audit_record(actor=Actor(actor), target=target, tenant_id=tenant.pk)


def _search(client, name, term):
    response = client.get(reverse(f"admin:{name}_changelist"), {"q": term})
    assert response.status_code == 200
    return response.context["cl"]


def test_audit_search_matches_the_tenant_slug_exactly_and_names_what_it_searches(client, staff):
    acme, acme_two = make_tenant("acme"), make_tenant("acme-two")
    _audit(acme, "tool:kv_set")
    _audit(acme_two, "tool:kv_get")
    cl = _search(client, "tenants_auditevent", "acme")
    assert {e.tenant_id for e in cl.result_list} == {acme.pk}
    assert "tenant slug" in cl.search_help_text and "Exact match" in cl.search_help_text


def test_audit_search_finds_a_tool_by_its_bare_name(client, staff):
    tenant = make_tenant()
    _audit(tenant, "tool:kv_set")
    _audit(tenant, "tool:kv_get")
    assert [e.target for e in _search(client, "tenants_auditevent", "kv_set").result_list] == ["tool:kv_set"]


def test_key_session_and_membership_searches_find_by_username_prefix_and_slug(client, staff):
    tenant = make_tenant("keys-here")
    member = make_member(tenant, username="alice")
    key, _ = make_key(member)
    other_key, _ = make_key(make_member(make_tenant(), username="alice-b"))
    McpSession.objects.create(tenant=tenant, membership=member, api_key=key, transport="http")
    assert [k.pk for k in _search(client, "tenants_apikey", "alice").result_list] == [key.pk]
    assert [k.pk for k in _search(client, "tenants_apikey", key.prefix).result_list] == [key.pk]
    assert [k.pk for k in _search(client, "tenants_apikey", "keys-here").result_list] == [key.pk]
    assert [s.api_key_id for s in _search(client, "mcpbridge_mcpsession", key.prefix).result_list] == [key.pk]
    assert [s.tenant_id for s in _search(client, "mcpbridge_mcpsession", "alice").result_list] == [tenant.pk]
    assert [m.pk for m in _search(client, "tenants_membership", "alice").result_list] == [member.pk]
    assert other_key.pk not in {k.pk for k in _search(client, "tenants_apikey", "alice").result_list}


SEARCHES = [
    ("tenants_auditevent", "acme"),
    ("tenants_auditevent", "kv_set"),
    ("tenants_usagecounter", "acme"),
    ("tenants_usagecounter", "mcp_tool_calls"),
    ("mcpbridge_mcpsession", "acme"),
    ("mcpbridge_mcpsession", "alice"),
    ("tenants_apikey", "alice"),
    ("tenants_membership", "alice"),
]


def _rows(n):
    for _ in range(n):
        tenant = make_tenant()
        member = make_member(tenant)
        key, _ = make_key(member)
        _audit(tenant, "tool:kv_set")
        usage_increment(tenant_id=tenant.pk, metric="mcp_tool_calls")
        McpSession.objects.create(tenant=tenant, membership=member, api_key=key, transport="http", protocol_version="2025-06-18")


@pytest.mark.parametrize("name,term", SEARCHES)
def test_search_queries_do_not_grow_with_rows(client, staff, name, term):
    make_tenant("acme")
    make_user("alice")
    _rows(2)
    with CaptureQueriesContext(connection) as few:
        _search(client, name, term)
    _rows(8)
    with CaptureQueriesContext(connection) as many:
        _search(client, name, term)
    assert len(many) == len(few)


@pytest.mark.parametrize("name,term", SEARCHES)
def test_every_search_is_answered_by_an_index_on_postgresql(client, staff, name, term):
    if connection.vendor != "postgresql":
        pytest.skip("the query plan is PostgreSQL's")
    make_tenant("acme")
    make_member(make_tenant(), username="alice")
    _rows(3)
    cl = _search(client, name, term)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
    plan = cl.queryset[:100].explain()
    assert _reads_by_index_condition(plan, cl.model._meta.db_table), plan


def _reads_by_index_condition(plan: str, table: str) -> bool:
    """Every read of `table` in the plan looks rows up by an index condition (no scan of the table or of a whole
    index filtered row by row)."""
    lines = [line.strip() for line in plan.splitlines()]
    reads = [i for i, line in enumerate(lines) if re.search(rf"Scan(?: Backward)?(?: using \S+)? on {table}\b", line)]
    return bool(reads) and all(
        lines[i].startswith("->  Bitmap Heap Scan") or lines[i + 1].startswith("Index Cond") for i in reads
    )


@pytest.mark.parametrize("name", ["tenants_auditevent", "tenants_usagecounter", "mcpbridge_mcpsession"])
def test_big_changelists_run_no_distinct_over_the_table(client, staff, name):
    _rows(3)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse(f"admin:{name}_changelist")).status_code == 200
    scans = [q["sql"] for q in queries if "DISTINCT" in q["sql"].upper() or "TRUNC" in q["sql"].upper()]
    assert scans == []


def test_metric_and_protocol_filters_list_the_values_present_and_filter_by_them(client, staff):
    _rows(2)
    tenant = make_tenant()
    usage_increment(tenant_id=tenant.pk, metric="mcp_tool_refused")
    McpSession.objects.create(tenant=tenant, transport="stdio", protocol_version="2025-03-26")

    def choices(response, title):
        spec = next(f for f in response.context["cl"].filter_specs if f.title == title)
        return [c["display"] for c in spec.choices(response.context["cl"])][1:]

    usage = client.get(reverse("admin:tenants_usagecounter_changelist"))
    assert choices(usage, "metric") == ["mcp_tool_calls", "mcp_tool_refused"]
    filtered = client.get(reverse("admin:tenants_usagecounter_changelist"), {"metric": "mcp_tool_refused"})
    assert [c.tenant_id for c in filtered.context["cl"].result_list] == [tenant.pk]
    sessions = client.get(reverse("admin:mcpbridge_mcpsession_changelist"))
    assert choices(sessions, "protocol version") == ["2025-03-26", "2025-06-18"]
    filtered = client.get(reverse("admin:mcpbridge_mcpsession_changelist"), {"protocol_version": "2025-03-26"})
    assert [s.tenant_id for s in filtered.context["cl"].result_list] == [tenant.pk]


def test_audit_events_are_still_listed_newest_first(client, staff):
    tenant = make_tenant()
    for target in ("tool:a", "tool:b", "tool:c"):
        _audit(tenant, target)
    listed = client.get(reverse("admin:tenants_auditevent_changelist")).context["cl"].result_list
    assert [e.target for e in listed if e.target.startswith("tool:")] == ["tool:c", "tool:b", "tool:a"]


def test_a_filtered_list_counts_its_matches_only_up_to_a_bound(client, staff, monkeypatch):
    from tenants.admin import paginators

    monkeypatch.setattr(paginators, "COUNT_UP_TO", 3)
    tenant = make_tenant()
    for n in range(6):
        _audit(tenant, "tool:kv_set")
    cl = _search(client, "tenants_auditevent", "kv_set")
    assert cl.result_count == 3
    assert len(cl.result_list) == 6  # the page itself still shows every row it holds


def test_tenant_search_scans_slug_and_name_only_and_matches_a_whole_id_exactly(client, staff):
    alpha, beta = make_tenant("alpha-corp"), make_tenant("beta")
    with CaptureQueriesContext(connection) as queries:
        assert [t.pk for t in _search(client, "tenants_tenant", "pha-co").result_list] == [alpha.pk]
    sql = " ".join(q["sql"] for q in queries.captured_queries)
    assert '"tenants_tenant"."id"::text' not in sql  # no cast of every tenant's id
    assert "DATE_TRUNC" not in sql and "MIN(" not in sql  # no date hierarchy over the matches
    assert [t.pk for t in _search(client, "tenants_tenant", f" {beta.pk} ").result_list] == [beta.pk]
    assert list(_search(client, "tenants_tenant", str(beta.pk)[:8]).result_list) == []
    assert "whole tenant id" in _search(client, "tenants_tenant", "x").search_help_text


def test_the_tenant_page_reads_its_tenant_plan_and_roles_once(client, staff):
    tenant = make_tenant("once")
    make_member(tenant, role="viewer")
    _tenant_page(client, tenant)
    with CaptureQueriesContext(connection) as queries:
        _tenant_page(client, tenant)
    sql = [q["sql"] for q in queries.captured_queries]
    assert len([s for s in sql if s.startswith('SELECT "tenants_tenant"."id"')]) == 1
    assert not [s for s in sql if s.startswith('SELECT "tenants_plan"."id"') and "WHERE" in s]
    assert not [s for s in sql if 'COUNT(*) AS "__count" FROM "tenants_role"' in s]
