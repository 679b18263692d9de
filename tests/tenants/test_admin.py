"""The admin as a platform admin uses it: pages, writes through services, raw keys shown once, query counts flat."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tenants.models import ApiKey, AuditEvent, Membership, Organization, Plan, Role, Tenant
from tenants.policy import resolve_api_key
from tests.factories import add_to_org, make_key, make_member, make_org, make_tenant

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client):
    user = get_user_model().objects.create_superuser("root", "root@example.com", "pw")
    client.force_login(user)
    return user


def _populate(n: int):
    for _ in range(n):
        tenant = make_tenant()
        org = make_org(tenant)
        member = make_member(tenant)
        add_to_org(org, member)
        make_key(member)


CHANGELISTS = [
    "tenants_tenant",
    "tenants_organization",
    "tenants_membership",
    "tenants_orgmembership",
    "tenants_apikey",
    "tenants_auditevent",
    "tenants_usagecounter",
    "tenants_role",
    "tenants_plan",
    "tenants_limitoverride",
    "mcpbridge_mcpsession",
    "mcpbridge_outboxevent",
    "mcpbridge_quotausage",
    "mcpbridge_tenantdataplane",
]
READ_ONLY = [
    "tenants_auditevent",
    "tenants_usagecounter",
    "tenants_orgmembership",
    "tenants_limitoverride",
    "mcpbridge_mcpsession",
    "mcpbridge_outboxevent",
    "mcpbridge_quotausage",
    "mcpbridge_tenantdataplane",
]


@pytest.mark.parametrize("name", CHANGELISTS)
def test_changelist_queries_do_not_grow_with_rows(client, staff, name):
    url = reverse(f"admin:{name}_changelist")
    _populate(3)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    _populate(12)
    with CaptureQueriesContext(connection) as many:
        assert client.get(url).status_code == 200
    assert len(many) == len(few), [q["sql"] for q in many.captured_queries]


@pytest.mark.parametrize("name", CHANGELISTS)
def test_filtered_changelist_skips_the_full_count(client, staff, name):
    _populate(2)
    response = client.get(reverse(f"admin:{name}_changelist"), {"q": "tenant"})
    assert response.status_code == 200
    assert response.context["cl"].show_full_result_count is False


@pytest.mark.parametrize("name", READ_ONLY)
def test_system_written_records_cannot_be_added_or_deleted(client, staff, name):
    from django.apps import apps

    _populate(1)
    app_label, model_name = name.split("_", 1)
    model = apps.get_model(app_label, model_name)
    assert client.get(reverse(f"admin:{name}_add")).status_code == 403
    obj = model.objects.first()
    if obj is not None:
        assert client.post(reverse(f"admin:{name}_delete", args=[obj.pk]), {"post": "yes"}).status_code == 403
        assert model.objects.filter(pk=obj.pk).exists()


def test_search_filters_and_autocomplete_work(client, staff):
    make_tenant("alpha-corp")
    make_tenant("beta-corp")
    response = client.get(reverse("admin:tenants_tenant_changelist"), {"q": "alpha"})
    assert [t.slug for t in response.context["cl"].result_list] == ["alpha-corp"]
    response = client.get(reverse("admin:tenants_tenant_changelist"), {"status__exact": "suspended"})
    assert list(response.context["cl"].result_list) == []
    response = client.get(
        reverse("admin:autocomplete"),
        {"app_label": "tenants", "model_name": "organization", "field_name": "tenant", "term": "beta"},
    )
    assert [r["text"] for r in response.json()["results"]] == ["beta-corp"]


def test_tenant_add_form_goes_through_the_service_with_inlines(client, staff):
    user = get_user_model().objects.create_user("carol")
    data = {
        "slug": "newco",
        "name": "New Co",
        "plan": Plan.objects.get(slug="free").pk,
        "registration_data": '{"email": "ops@newco.example"}',
        "organizations-TOTAL_FORMS": "1",
        "organizations-INITIAL_FORMS": "0",
        "organizations-0-slug": "eng",
        "organizations-0-name": "Engineering",
        "memberships-TOTAL_FORMS": "1",
        "memberships-INITIAL_FORMS": "0",
        "memberships-0-user": user.pk,
        "memberships-0-role": Role.objects.get(slug="viewer").pk,
        "limit_overrides-TOTAL_FORMS": "1",
        "limit_overrides-INITIAL_FORMS": "0",
        "limit_overrides-0-limit": "kv_items",
        "limit_overrides-0-value": "42",
    }
    response = client.post(reverse("admin:tenants_tenant_add"), data)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else response
    tenant = Tenant.objects.get(slug="newco")
    assert tenant.registration_data == {"email": "ops@newco.example"}
    assert Organization.objects.get(tenant=tenant).slug == "eng"
    assert Membership.objects.get(tenant=tenant).role.slug == "viewer"
    assert list(tenant.limit_overrides.values_list("limit", "value")) == [("kv_items", 42)]
    operations = set(
        AuditEvent.objects.filter(tenant=tenant, actor="user:root", action="admin_change").values_list(
            "details__operation", flat=True
        )
    )
    assert operations == {"tenant.create", "org.create", "membership.add", "limit.set"}


def _tenant_change_data(tenant, membership, **row):
    data = {
        "name": tenant.name, "plan": tenant.plan_id, "registration_data": "{}",
        "organizations-TOTAL_FORMS": "0", "organizations-INITIAL_FORMS": "0",
        "limit_overrides-TOTAL_FORMS": "0", "limit_overrides-INITIAL_FORMS": "0",
        "memberships-TOTAL_FORMS": "1", "memberships-INITIAL_FORMS": "1",
        "memberships-0-id": membership.pk, "memberships-0-tenant": tenant.pk,
        "memberships-0-user": membership.user_id, "memberships-0-role": membership.role_id,
    }
    data.update({f"memberships-0-{name}": value for name, value in row.items()})
    return data


def test_the_member_of_an_existing_membership_row_is_read_only_on_the_tenant_page(client, staff):
    tenant = make_tenant()
    membership = make_member(tenant, "viewer")
    url = reverse("admin:tenants_tenant_change", args=[tenant.pk])
    row = client.get(url).context["inline_admin_formsets"][1].formset.forms[0]
    assert row.fields["user"].disabled
    stranger = get_user_model().objects.create_user("mallory")
    response = client.post(url, _tenant_change_data(tenant, membership, user=stranger.pk))
    assert response.status_code == 302
    assert Membership.objects.get(pk=membership.pk).user_id == membership.user_id
    assert not Membership.objects.filter(user=stranger).exists()
    assert not AuditEvent.objects.filter(tenant=tenant, actor="user:root", details__operation__startswith="membership.").exists()


def test_a_role_change_in_the_tenant_page_inline_is_saved_and_audited(client, staff):
    tenant = make_tenant()
    membership = make_member(tenant, "viewer")
    url = reverse("admin:tenants_tenant_change", args=[tenant.pk])
    response = client.post(url, _tenant_change_data(tenant, membership, role=Role.objects.get(slug="admin").pk))
    assert response.status_code == 302
    assert Membership.objects.get(pk=membership.pk).role.slug == "admin"
    assert AuditEvent.objects.filter(tenant=tenant, actor="user:root", details__operation="membership.change_role").exists()


def test_a_new_membership_row_still_chooses_its_user(client, staff):
    tenant = make_tenant()
    make_member(tenant, "viewer")
    empty = client.get(reverse("admin:tenants_tenant_change", args=[tenant.pk])).context["inline_admin_formsets"][1]
    assert not empty.formset.empty_form.fields["user"].disabled


def test_view_site_leads_to_a_page_that_exists(client, staff):
    index = client.get(reverse("admin:index"))
    assert index.context["site_url"] == "/api/v1/docs/"
    assert client.get(index.context["site_url"]).status_code == 200


def test_suspend_and_resume_actions(client, staff):
    tenant = make_tenant()
    url = reverse("admin:tenants_tenant_changelist")
    client.post(url, {"action": "suspend_tenants", "_selected_action": [tenant.pk]})
    assert Tenant.objects.get(pk=tenant.pk).status == "suspended"
    client.post(url, {"action": "resume_tenants", "_selected_action": [tenant.pk]})
    assert Tenant.objects.get(pk=tenant.pk).status == "active"
    assert AuditEvent.objects.filter(tenant=tenant, actor="user:root", details__operation="tenant.suspend").exists()


def test_refused_action_shows_a_message_and_changes_nothing(client, staff):
    tenant = make_tenant()
    response = client.post(
        reverse("admin:tenants_tenant_changelist"),
        {"action": "resume_tenants", "_selected_action": [tenant.pk]},
        follow=True,
    )
    assert Tenant.objects.get(pk=tenant.pk).status == "active"
    from tenants.services import tenant_offboard
    from tests.factories import ACTOR

    tenant_offboard(tenant=tenant, actor=ACTOR)
    response = client.post(
        reverse("admin:tenants_tenant_changelist"),
        {"action": "suspend_tenants", "_selected_action": [tenant.pk]},
        follow=True,
    )
    assert "can become suspended only from active" in response.content.decode()
    assert Tenant.objects.get(pk=tenant.pk).status == "offboarding"


RAW_KEY = re.compile(r'<code class="raw-api-key">([^<]+)</code>')


def test_api_key_add_shows_the_raw_key_once_and_stores_only_its_digest(client, staff):
    membership = make_member(make_tenant(), "viewer")
    posted = client.post(
        reverse("admin:tenants_apikey_add"),
        {"membership": membership.pk, "name": "laptop", "scope_mode": "listed", "scopes": ["kv.read"]},
    )
    assert posted.status_code == 302 and not RAW_KEY.search(posted.content.decode())
    response = client.get(posted["Location"])
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    raw = RAW_KEY.search(response.content.decode()).group(1)
    principal = resolve_api_key(raw)
    assert principal.capabilities == frozenset({"kv.read"})
    key = ApiKey.objects.get(membership=membership)
    assert raw not in repr(list(ApiKey.objects.values()))
    assert not any(raw in row.session_data or raw in repr(row.get_decoded()) for row in Session.objects.all())
    change_page = client.get(reverse("admin:tenants_apikey_change", args=[key.pk])).content.decode()
    assert key.prefix in change_page and raw not in change_page
    listing = client.get(reverse("admin:tenants_apikey_changelist")).content.decode()
    assert raw not in listing


def test_reloading_the_issued_key_page_shows_nothing_and_issues_nothing(client, staff):
    membership = make_member(make_tenant(), "viewer")
    posted = client.post(reverse("admin:tenants_apikey_add"), {"membership": membership.pk, "name": "laptop", "scope_mode": "role"})
    first = client.get(posted["Location"]).content.decode()
    assert RAW_KEY.search(first)
    reload = client.get(posted["Location"])
    assert reload.status_code == 200 and "no-store" in reload["Cache-Control"]
    assert not RAW_KEY.search(reload.content.decode())
    assert "already shown" in reload.content.decode()
    assert ApiKey.objects.filter(membership=membership).count() == 1
    assert AuditEvent.objects.filter(tenant=membership.tenant, details__operation="api_key.issue").count() == 1


def test_the_issued_key_page_is_for_the_staff_user_who_issued_it(client, staff):
    membership = make_member(make_tenant(), "viewer")
    posted = client.post(reverse("admin:tenants_apikey_add"), {"membership": membership.pk, "name": "laptop", "scope_mode": "role"})
    other = get_user_model().objects.create_superuser("other", "o@example.com", "pw")
    client.force_login(other)
    assert not RAW_KEY.search(client.get(posted["Location"]).content.decode())


def test_rotating_redirects_to_a_one_time_page(client, staff):
    key, _ = make_key(make_member(make_tenant()))
    posted = client.post(reverse("admin:tenants_apikey_changelist"),
                         {"action": "rotate_keys", "_selected_action": [key.pk]})
    assert posted.status_code == 302
    raw = RAW_KEY.search(client.get(posted["Location"]).content.decode()).group(1)
    assert resolve_api_key(raw).tenant_id == str(key.membership.tenant_id)
    assert not RAW_KEY.search(client.get(posted["Location"]).content.decode())
    assert ApiKey.objects.filter(membership=key.membership).count() == 2


def test_revoke_action_ends_key_access(client, staff):
    key, raw = make_key(make_member(make_tenant()))
    resolve_api_key(raw)
    client.post(reverse("admin:tenants_apikey_changelist"), {"action": "revoke_keys", "_selected_action": [key.pk]})
    from tenants.policy import ResolutionError

    with pytest.raises(ResolutionError):
        resolve_api_key(raw)


def test_role_capabilities_edited_as_checkboxes(client, staff):
    role = Role.objects.get(slug="viewer")
    response = client.post(
        reverse("admin:tenants_role_change", args=[role.pk]),
        {"name": "Viewer", "description": "", "capabilities": ["kv.read"]},
    )
    assert response.status_code == 302
    assert Role.objects.get(pk=role.pk).capabilities == ["kv.read"]
    assert AuditEvent.objects.filter(target="role:viewer", details__operation="role.update").exists()


def test_audit_events_are_read_only_in_the_admin(client, staff):
    make_tenant()
    event = AuditEvent.objects.first()
    assert client.get(reverse("admin:tenants_auditevent_delete", args=[event.pk])).status_code == 403
    assert client.post(reverse("admin:tenants_auditevent_change", args=[event.pk]), {"target": "x"}).status_code == 403
    assert client.get(reverse("admin:tenants_auditevent_add")).status_code == 403
    changelist = client.get(reverse("admin:tenants_auditevent_changelist"))
    assert "delete_selected" not in changelist.content.decode()
    assert AuditEvent.objects.get(pk=event.pk).target == event.target


def test_builtin_roles_and_tenants_cannot_be_deleted(client, staff):
    admin_role = Role.objects.get(slug="admin")
    assert client.post(reverse("admin:tenants_role_delete", args=[admin_role.pk]), {"post": "yes"}).status_code == 403
    tenant = make_tenant()
    assert client.post(reverse("admin:tenants_tenant_delete", args=[tenant.pk]), {"post": "yes"}).status_code == 403
    assert Role.objects.filter(pk=admin_role.pk).exists() and Tenant.objects.filter(pk=tenant.pk).exists()


def test_admin_requires_login(client):
    response = client.get(reverse("admin:tenants_tenant_changelist"))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_unfiltered_audit_list_uses_the_row_estimate_on_postgresql(monkeypatch):
    from django.db import connection

    from tenants.admin import paginators
    from tenants.services import Actor, audit_record

    for i in range(30):
        audit_record(actor=Actor("bench"), target=f"t{i}")
    monkeypatch.setattr(paginators, "ESTIMATE_ABOVE", 5)
    exact = AuditEvent.objects.count()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE tenants_auditevent")
            cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE relname = 'tenants_auditevent'")
            estimate = cursor.fetchone()[0]
        with CaptureQueriesContext(connection) as queries:
            count = paginators.EstimatedCountPaginator(AuditEvent.objects.all(), 10).count
        assert count == estimate and not any("COUNT(" in q["sql"].upper() for q in queries.captured_queries)
    else:
        assert paginators.EstimatedCountPaginator(AuditEvent.objects.all(), 10).count == exact
    # A filtered list is always counted exactly.
    assert paginators.EstimatedCountPaginator(AuditEvent.objects.filter(target="t1"), 10).count == 1


def test_user_admin_changes_are_audited_without_values(client, staff):
    response = client.post(
        reverse("admin:auth_user_add"),
        {"username": "dana", "password1": "a-Secret-pass-123", "password2": "a-Secret-pass-123", "usable_password": "true"},
    )
    assert response.status_code == 302
    dana = get_user_model().objects.get(username="dana")
    response = client.post(
        reverse("admin:auth_user_change", args=[dana.pk]),
        {
            "username": "dana",
            "first_name": "Dana",
            "last_name": "",
            "email": "dana@example.com",
            "is_active": "on",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "00:00:00",
        },
    )
    assert response.status_code == 302
    events = AuditEvent.objects.filter(target="user:dana", actor="user:root").order_by("id")
    assert [e.details["operation"] for e in events] == ["user.create", "user.change"]
    assert set(events[1].details["fields"]) >= {"First name", "Email address"}
    assert "a-Secret-pass-123" not in repr(list(AuditEvent.objects.values()))
