"""The decision API: allow/deny with reasons, limits and usage; explain; errors in the one shape."""

import json

import pytest
from django.test import Client

from tenants.services import api_key_revoke, tenant_limit_set, tenant_suspend
from tests.api.conftest import client_for
from tests.factories import ACTOR, add_to_org, make_key, make_member

pytestmark = pytest.mark.django_db
CHECK = "/api/decide/v1/check"


def check(raw, **body):
    return Client().post(CHECK, data=json.dumps(body), content_type="application/json",
                         HTTP_AUTHORIZATION=f"Bearer {raw}")


def test_allowed_tool_with_reasons_limits_and_usage(world):
    answer = check(world.b_user_raw, tool="kv_set").json()
    assert answer["allowed"] is True
    assert answer["capability"] == "kv.write"
    assert answer["context"] == "personal"
    assert any("grants kv.write" in r for r in answer["reasons"])
    assert answer["limits"]["kv_items"] == 77  # the tenant's override, not the plan's default
    assert answer["usage"]["kv_items"] == {"used": 0, "max": 77, "left": 77}
    assert answer["tenant"]["slug"] == "tenant-b"


def test_denied_capability_says_why(world):
    answer = check(world.b_user_raw, capability="secrets.write").json()
    assert answer["allowed"] is False
    assert any("does not grant secrets.write" in r for r in answer["reasons"])


def test_key_scope_narrows_the_role(world):
    _, raw = make_key(world.b_user, scopes=["kv.read"])
    answer = check(raw, tool="kv_set").json()
    assert answer["allowed"] is False
    assert "API key scope excludes kv.write" in answer["reasons"]


def test_org_context_uses_the_org_role(world):
    viewer = make_member(world.b, role="admin")
    add_to_org(world.b_org, viewer, role="viewer")
    _, raw = make_key(viewer)
    assert check(raw, tool="kv_set").json()["allowed"] is True
    in_org = check(raw, tool="kv_set", context="b-org").json()
    assert in_org["allowed"] is False and in_org["context"] == "org:b-org"
    elsewhere = check(raw, tool="kv_get", context="not-my-org").json()
    assert elsewhere["allowed"] is False and "not a member" in elsewhere["reasons"][-1]


def test_tools_without_capability_and_unknown_tools(world):
    assert check(world.b_user_raw, tool="whoami").json()["allowed"] is True
    unknown = check(world.b_user_raw, tool="rm_rf").json()
    assert unknown["allowed"] is False and "not a known tool" in unknown["reasons"][0]


def test_invalid_input_is_400_naming_the_field(world):
    both = check(world.b_user_raw, tool="kv_get", capability="kv.read")
    too_long = check(world.b_user_raw, tool="x" * 65)
    assert both.status_code == 400 and both.json()["code"] == "invalid"
    assert too_long.status_code == 400 and too_long.json()["message"].startswith("tool:")
    assert "tool" in too_long.json()["details"]["fields"]


def test_keys_that_cannot_act(world):
    api_key_revoke(api_key=world.b_key, actor=ACTOR)
    revoked = check(world.b_user_raw, tool="kv_get")
    made_up = check("cpk_00000000_" + "a" * 43, tool="kv_get")
    assert revoked.status_code == 401 and revoked.json()["code"] == "revoked_key"
    assert made_up.status_code == 401 and made_up.json()["code"] == "unknown_key"
    tenant_suspend(tenant=world.b, actor=ACTOR)
    suspended = check(world.b_admin_raw, tool="kv_get")
    assert suspended.status_code == 403 and suspended.json()["code"] == "tenant_suspended"


def test_rate_limited_with_retry_after(world):
    tenant_limit_set(tenant=world.b, limit="requests_per_minute", value=2, actor=ACTOR)
    statuses = [check(world.b_user_raw, tool="kv_get") for _ in range(3)]
    assert [r.status_code for r in statuses] == [200, 200, 429]
    assert 1 <= int(statuses[-1]["Retry-After"]) <= 60
    assert statuses[-1].json()["code"] == "rate_limited"


def test_explain_lists_every_context_and_key(world):
    answer = client_for(world, "staff").get(f"/api/decide/v1/explain?tenant={world.b.id}&user=b-user").json()
    contexts = {c["context"]: c for c in answer["contexts"]}
    assert set(contexts) == {"personal", "org:b-org"}
    assert "kv.write" in contexts["personal"]["capabilities"]
    assert "tenant.manage" in contexts["personal"]["denied"]
    assert answer["keys"][0]["prefix"] == world.b_key.prefix
    assert answer["keys"][0]["usable"] is True
    assert answer["limits"]["kv_items"] == 77


def test_explain_of_another_tenant_is_404(world):
    response = client_for(world, "wrong_tenant").get(f"/api/decide/v1/explain?tenant={world.b.slug}&user=b-user")
    assert response.status_code == 404
    assert "b-user" not in json.dumps(response.json()["details"])


@pytest.mark.parametrize("user", ["²", "١٢", "9" * 30, "00"])
def test_explain_of_a_non_ascii_or_huge_user_number_is_a_clean_404(world, user):
    response = client_for(world, "staff").get("/api/decide/v1/explain", {"tenant": world.b.slug, "user": user})
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_explain_finds_a_member_by_numeric_id(world):
    answer = client_for(world, "staff").get(
        "/api/decide/v1/explain", {"tenant": world.b.slug, "user": str(world.b_user.user_id)}).json()
    assert answer["user"]["username"] == "b-user"


@pytest.mark.parametrize("role", ["admin", "user", "viewer"])
def test_decisions_agree_with_what_the_mcp_bridge_shows(world, role):
    from mcpbridge.server.tools import default_registry
    from tenants.policy import resolve_api_key
    from tests.factories import make_tenant

    _, raw = make_key(make_member(make_tenant(), role))
    principal = resolve_api_key(raw)
    registry = default_registry()
    for tool in registry:
        answer = check(raw, tool=tool.name).json()
        assert answer["allowed"] is (registry.find_visible(principal, tool.name) is not None), tool.name
