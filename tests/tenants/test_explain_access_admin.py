"""Explain access in the admin: the decision API's answer for a stored key or a member, with links to change it."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from tenants.decisions.logic import decide
from tenants.models import Role
from tenants.policy import resolve_api_key
from tenants.services import Actor, api_key_revoke, membership_change_role, tenant_suspend
from tests.factories import add_to_org, make_key, make_member, make_org, make_tenant

pytestmark = pytest.mark.django_db
URL = "admin:tenants_explain_access"
ACTOR = Actor("test")


@pytest.fixture
def staff(client):
    client.force_login(get_user_model().objects.create_superuser("root", "root@example.com", "pw"))


def _ask(client, **params):
    return client.get(reverse(URL), params).content.decode()


def test_a_viewer_key_is_denied_a_write_tool_with_the_role_as_reason(client, staff):
    member = make_member(make_tenant("acme"), role="viewer", username="vera")
    key, raw = make_key(member)
    page = _ask(client, key=key.prefix, tool="kv_set")
    assert "DENY" in page
    assert "role &#x27;viewer&#x27; in context personal does not grant kv.write" in page
    # The same words as the decision API gives for the raw key: one policy, whatever asks.
    api = decide(resolve_api_key(raw), tool="kv_set", capability=None, context=None)
    assert api["allowed"] is False
    for reason in api["reasons"]:
        assert reason.replace("'", "&#x27;") in page
    assert reverse("admin:tenants_membership_change", args=[member.pk]) in page
    assert reverse("admin:tenants_apikey_change", args=[key.pk]) in page
    assert reverse("admin:tenants_role_change", args=[member.role.pk]) in page
    assert "kv_items" in page  # usage left


def test_allowed_for_a_member_by_name_with_scope_and_context(client, staff):
    tenant = make_tenant("acme")
    member = make_member(tenant, role="viewer", username="alice")
    org = make_org(tenant, slug="sales")
    add_to_org(org, member, role="user")
    page = _ask(client, tenant="acme", user="alice", context="sales", capability="kv.write")
    assert "ALLOW" in page and "grants kv.write" in page and "context org:sales" in page
    assert "ALLOW" not in _ask(client, tenant="acme", user="alice", context="personal", capability="kv.write")
    page = _ask(client, tenant="acme", user="alice", context="other-org", capability="kv.read")
    assert "DENY" in page and "You are not a member of organization &#x27;other-org&#x27; in this tenant." in page


def test_a_scoped_key_names_its_scope(client, staff):
    key, _ = make_key(make_member(make_tenant(), role="admin"), scopes=["kv.read"])
    page = _ask(client, key=key.prefix, capability="secrets.read")
    assert "DENY" in page and "API key scope excludes secrets.read" in page


def test_state_refusals_come_first(client, staff):
    tenant = make_tenant("acme")
    member = make_member(tenant, role="admin", username="ann")
    key, _ = make_key(member, expires_at=timezone.now() + timedelta(days=1))
    assert "ALLOW" in _ask(client, key=key.prefix, tool="kv_get")
    tenant_suspend(tenant=tenant, actor=ACTOR)
    page = _ask(client, key=key.prefix, tool="kv_get")
    assert "DENY" in page and "The tenant is suspended." in page
    assert "role &#x27;admin&#x27; in context personal grants kv.read" in page  # still shows what it would have
    api_key_revoke(api_key=key, actor=ACTOR, reason="test")
    assert "The API key has been revoked." in _ask(client, key=key.prefix, tool="kv_get")


def test_a_role_change_shows_on_the_next_ask(client, staff):
    member = make_member(make_tenant(), role="viewer")
    key, _ = make_key(member)
    assert "DENY" in _ask(client, key=key.prefix, tool="kv_set")
    membership_change_role(membership=member, role=Role.objects.get(slug="user"), actor=ACTOR)
    assert "ALLOW" in _ask(client, key=key.prefix, tool="kv_set")


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"key": "cpk_nothere", "tool": "kv_get"}, "No API key with prefix"),
        ({"tenant": "nope", "user": "x", "tool": "kv_get"}, "No tenant"),
        ({"tool": "kv_get"}, "Give a key prefix, or a tenant and a member"),
        ({"key": "cpk_x", "tool": "kv_get", "capability": "kv.read"}, "Pick a tool or a capability"),
        ({"key": "cpk_x", "tool": "no_such_tool"}, "Select a valid choice"),
    ],
)
def test_bad_input_is_answered_on_the_form(client, staff, params, message):
    make_tenant("acme")
    response = client.get(reverse(URL), params)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert "explain-answer" not in response.content.decode()


def test_the_membership_list_links_to_it(client, staff):
    assert reverse(URL) in client.get(reverse("admin:tenants_membership_changelist")).content.decode()
