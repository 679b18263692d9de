"""Key scopes are explicit: null is "the role's capabilities", [] is "no capabilities", in every adapter."""

import json
import re

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client
from django.urls import reverse

from tenants.capabilities import BUILTIN_ROLES
from tenants.models import ApiKey
from tenants.policy import explain, resolve_api_key
from tenants.services import ServiceError, api_key_update
from tests.factories import ACTOR, make_key, make_member, make_tenant

USER_CAPS = frozenset(BUILTIN_ROLES["user"][1])


def _patch(client, key, body):
    return client.patch(f"/api/v1/api-keys/{key.id}/", data=json.dumps(body), content_type="application/json")


def _admin_client():
    tenant = make_tenant()
    _, raw = make_key(make_member(tenant, "admin"))
    client = Client()
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {raw}"
    return tenant, client


@pytest.mark.django_db
def test_an_empty_scope_grants_nothing_and_null_grants_the_role():
    member = make_member(make_tenant(), "user")
    empty, empty_raw = make_key(member, scopes=[])
    _, role_raw = make_key(member, scopes=None)

    assert ApiKey.objects.get(pk=empty.pk).scopes == []
    assert resolve_api_key(empty_raw).capabilities == frozenset()
    assert explain(resolve_api_key(empty_raw), "kv.read").reasons[-1] == "API key scope excludes kv.read"
    assert resolve_api_key(role_raw).capabilities == USER_CAPS


@pytest.mark.django_db
def test_patching_scopes_to_empty_strips_the_key_and_null_restores_the_role():
    tenant, client = _admin_client()
    key, raw = make_key(make_member(tenant, "user"), scopes=["kv.read"])

    stripped = _patch(client, key, {"scopes": []})
    assert stripped.status_code == 200, stripped.content
    assert stripped.json()["scopes"] == []
    assert resolve_api_key(raw).capabilities == frozenset()

    renamed = _patch(client, key, {"name": "renamed"})
    assert renamed.json()["scopes"] == [], "a PATCH without scopes leaves them alone"

    restored = _patch(client, key, {"scopes": None})
    assert restored.status_code == 200, restored.content
    assert restored.json()["scopes"] is None
    assert resolve_api_key(raw).capabilities == USER_CAPS


@pytest.mark.django_db
def test_creating_with_an_empty_scope_over_rest_gives_a_key_without_capabilities():
    tenant, client = _admin_client()
    member = make_member(tenant, "user")
    response = client.post(
        "/api/v1/api-keys/", data=json.dumps({"membership": str(member.id), "name": "inert", "scopes": []}),
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["scopes"] == []
    assert resolve_api_key(response.json()["key"]).capabilities == frozenset()


@pytest.mark.django_db
def test_the_service_refuses_a_scope_that_is_not_a_list():
    key, _ = make_key(make_member(make_tenant()))
    with pytest.raises(ServiceError, match=r"list of capabilities \(\[\] for none\)"):
        api_key_update(api_key=key, actor=ACTOR, scopes="kv.read")


@pytest.mark.django_db
def test_the_openapi_schema_says_what_null_and_empty_mean():
    staff = get_user_model().objects.create_user("schema-reader", is_staff=True)
    client = Client()
    client.force_login(staff)
    schema = client.get("/api/v1/schema/?format=json").json()
    for name in ("ApiKeyCreateRequest", "PatchedApiKeyUpdateRequest", "ApiKey"):
        field = schema["components"]["schemas"][name]["properties"]["scopes"]
        assert field.get("nullable") is True, name
        assert "null: unrestricted" in field["description"]
        assert "empty list: no capabilities" in field["description"]


@pytest.fixture
def admin_client(client):
    client.force_login(get_user_model().objects.create_superuser("root", "root@example.com", "pw"))
    return client


def _raw_from(response, client) -> str:
    """The raw key on the one-time page the add form redirects to."""
    assert response.status_code == 302, response.content.decode()[:500]
    page = client.get(response["Location"]).content.decode()
    return re.search(r'<code class="raw-api-key">([^<]+)</code>', page).group(1)


@pytest.mark.django_db
def test_admin_form_makes_unrestricted_an_explicit_choice(admin_client):
    member = make_member(make_tenant(), "user")
    url = reverse("admin:tenants_apikey_add")

    missing = admin_client.post(url, {"membership": member.pk, "name": "no choice"})
    assert missing.status_code == 200 and not ApiKey.objects.filter(name="no choice").exists()
    assert "This field is required" in missing.content.decode()

    nothing = admin_client.post(url, {"membership": member.pk, "name": "inert", "scope_mode": "listed"})
    assert resolve_api_key(_raw_from(nothing, admin_client)).capabilities == frozenset()

    role = admin_client.post(url, {"membership": member.pk, "name": "full", "scope_mode": "role"})
    assert resolve_api_key(_raw_from(role, admin_client)).capabilities == USER_CAPS

    both = admin_client.post(url, {"membership": member.pk, "name": "both", "scope_mode": "role", "scopes": ["kv.read"]})
    assert not ApiKey.objects.filter(name="both").exists()
    assert "Untick these" in both.content.decode()


@pytest.mark.django_db
def test_admin_change_form_keeps_an_empty_scope_empty(admin_client):
    key, raw = make_key(make_member(make_tenant(), "user"), scopes=["kv.read"])
    page = admin_client.get(reverse("admin:tenants_apikey_change", args=[key.pk])).content.decode()
    assert re.search(r'value="listed"[^>]*checked', page)
    admin_client.post(
        reverse("admin:tenants_apikey_change", args=[key.pk]),
        {"name": key.name, "scope_mode": "listed", "default_org": "", "expires_at": ""},
    )
    assert ApiKey.objects.get(pk=key.pk).scopes == []
    assert resolve_api_key(raw).capabilities == frozenset()


@pytest.mark.django_db(transaction=True)
def test_migration_keeps_every_live_key_meaning_the_same():
    """Before 0004, [] and null both meant the role's capabilities: after it, both are null."""
    member = make_member(make_tenant(), "user")  # with today's models, before their tables go back to 0003
    executor = MigrationExecutor(connection)
    executor.migrate([("tenants", "0003_api_idempotency_and_app_plane_events")])
    try:
        old_apps = executor.loader.project_state([("tenants", "0003_api_idempotency_and_app_plane_events")]).apps
        OldKey = old_apps.get_model("tenants", "ApiKey")
        OldKey.objects.all().delete()
        for name, scopes in (("empty", []), ("null", None), ("listed", ["kv.read"])):
            OldKey.objects.create(membership_id=member.pk, name=name, prefix=f"cpk_{name[:4]:0<8}"[:12],
                                  digest=name * 8, scopes=scopes)
        executor = MigrationExecutor(connection)
        executor.migrate([("tenants", "0004_api_key_scope_explicit")])
        scopes = dict(ApiKey.objects.values_list("name", "scopes"))
        assert scopes == {"empty": None, "null": None, "listed": ["kv.read"]}

        ApiKey.objects.filter(name="listed").update(scopes=[])
        executor = MigrationExecutor(connection)
        executor.migrate([("tenants", "0003_api_idempotency_and_app_plane_events")])
        revoked = dict(OldKey.objects.values_list("name", "revoked_at"))
        assert revoked["listed"] is not None and revoked["null"] is None, "going back never widens a key"
    finally:
        # Every app: going back in tenants also unapplied the apps that depend on it (oauthserver...).
        call_command("migrate", verbosity=0)
