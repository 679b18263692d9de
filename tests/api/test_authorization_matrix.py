"""Every endpoint of both APIs against every kind of caller: the status, no leak, and nothing changed when denied.

Callers: anonymous; wrong_tenant (tenant A's admin key, acting on tenant B's objects); no_capability (a B key
whose role lacks tenant.manage); staff (Django session); tenant_admin (B's admin key, tenant.manage);
service_key (a platform service key with every platform capability); service_key_read_only (one with only
platform.tenants.read); oauth_token (an OAuth access token of B's admin: minted for /mcp, refused here).
"""

import json
from dataclasses import dataclass, field
from typing import Callable

import pytest

from tenants.platform_capabilities import ALL_PLATFORM_CAPABILITIES, PlatformCapability
from tests.api.conftest import World, client_for, service_key_client, snapshot
from tests.oauth.factories import oauth_tokens

SERVICE_KEY_CALLERS = {
    "service_key": ALL_PLATFORM_CAPABILITIES,
    "service_key_read_only": frozenset({PlatformCapability.TENANTS_READ}),
}
CALLERS = ("anonymous", "wrong_tenant", "no_capability", "staff", "tenant_admin", *SERVICE_KEY_CALLERS, "oauth_token")
V1 = "/api/v1"


@dataclass(frozen=True)
class Endpoint:
    name: str
    method: str
    path: Callable[[World], str]
    kind: str  # list | detail | write | create | staff | global | app_plane | check | explain
    body: Callable[[World], dict] = field(default=lambda w: {})
    ok: int = 200


E = Endpoint
ENDPOINTS = [
    E("tenants.list", "get", lambda w: f"{V1}/tenants/", "list"),
    E("tenants.create", "post", lambda w: f"{V1}/tenants/", "staff",
      lambda w: {"slug": "tenant-new", "name": "New", "plan": "free"}, 201),
    E("tenants.read", "get", lambda w: f"{V1}/tenants/{w.b.id}/", "detail"),
    E("tenants.update", "patch", lambda w: f"{V1}/tenants/{w.b.id}/", "write", lambda w: {"name": "Renamed"}),
    E("tenants.suspend", "post", lambda w: f"{V1}/tenants/{w.b.id}/suspend/", "staff"),
    E("tenants.resume", "post", lambda w: f"{V1}/tenants/{w.b.id}/resume/", "staff"),
    E("tenants.offboard", "post", lambda w: f"{V1}/tenants/{w.b.id}/offboard/", "staff"),
    E("tenants.change_plan", "post", lambda w: f"{V1}/tenants/{w.b.id}/change-plan/", "staff",
      lambda w: {"plan": "free"}),
    E("tenants.limits", "get", lambda w: f"{V1}/tenants/{w.b.id}/limits/", "detail"),
    E("plans.list", "get", lambda w: f"{V1}/plans/", "global"),
    E("plans.read", "get", lambda w: f"{V1}/plans/{w.b.plan_id}/", "global"),
    E("plans.create", "post", lambda w: f"{V1}/plans/", "staff",
      lambda w: {"slug": "gold", "name": "Gold", "kv_items": 5}, 201),
    E("plans.update", "patch", lambda w: f"{V1}/plans/{w.b.plan_id}/", "staff", lambda w: {"kv_items": 9}),
    E("limit_overrides.list", "get", lambda w: f"{V1}/limit-overrides/", "list"),
    E("limit_overrides.read", "get", lambda w: f"{V1}/limit-overrides/{w.b_override.id}/", "detail"),
    E("limit_overrides.create", "post", lambda w: f"{V1}/limit-overrides/", "staff",
      lambda w: {"tenant": str(w.b.id), "limit": "secrets_count", "value": 3}, 201),
    E("limit_overrides.update", "patch", lambda w: f"{V1}/limit-overrides/{w.b_override.id}/", "staff",
      lambda w: {"value": 5}),
    E("limit_overrides.delete", "delete", lambda w: f"{V1}/limit-overrides/{w.b_override.id}/", "staff", ok=204),
    E("roles.list", "get", lambda w: f"{V1}/roles/", "global"),
    E("roles.read", "get", lambda w: f"{V1}/roles/{w.custom_role.id}/", "global"),
    E("roles.create", "post", lambda w: f"{V1}/roles/", "staff",
      lambda w: {"slug": "writer", "name": "Writer", "capabilities": ["kv.write"]}, 201),
    E("roles.update", "patch", lambda w: f"{V1}/roles/{w.custom_role.id}/", "staff",
      lambda w: {"capabilities": ["kv.read", "artifacts.get"]}),
    E("roles.delete", "delete", lambda w: f"{V1}/roles/{w.custom_role.id}/", "staff", ok=204),
    E("organizations.list", "get", lambda w: f"{V1}/organizations/", "list"),
    E("organizations.read", "get", lambda w: f"{V1}/organizations/{w.b_org.id}/", "detail"),
    E("organizations.create", "post", lambda w: f"{V1}/organizations/", "create",
      lambda w: {"tenant": str(w.b.id), "slug": "b-new", "name": "New org"}, 201),
    E("organizations.update", "patch", lambda w: f"{V1}/organizations/{w.b_org.id}/", "write",
      lambda w: {"name": "Renamed org"}),
    E("organizations.delete", "delete", lambda w: f"{V1}/organizations/{w.b_org2.id}/", "write", ok=204),
    E("memberships.list", "get", lambda w: f"{V1}/memberships/", "list"),
    E("memberships.read", "get", lambda w: f"{V1}/memberships/{w.b_user.id}/", "detail"),
    E("memberships.create", "post", lambda w: f"{V1}/memberships/", "create",
      lambda w: {"tenant": str(w.b.id), "username": "newbie", "email": "n@example.com", "role": "viewer"}, 201),
    E("memberships.update", "patch", lambda w: f"{V1}/memberships/{w.b_user.id}/", "write",
      lambda w: {"role": "viewer"}),
    E("memberships.delete", "delete", lambda w: f"{V1}/memberships/{w.b_user.id}/", "write", ok=204),
    E("org_memberships.list", "get", lambda w: f"{V1}/org-memberships/", "list"),
    E("org_memberships.read", "get", lambda w: f"{V1}/org-memberships/{w.b_org_membership.id}/", "detail"),
    E("org_memberships.create", "post", lambda w: f"{V1}/org-memberships/", "create",
      lambda w: {"organization": str(w.b_org2.id), "membership": str(w.b_user.id), "role": "viewer"}, 201),
    E("org_memberships.update", "patch", lambda w: f"{V1}/org-memberships/{w.b_org_membership.id}/", "write",
      lambda w: {"role": "viewer"}),
    E("org_memberships.delete", "delete", lambda w: f"{V1}/org-memberships/{w.b_org_membership.id}/", "write",
      ok=204),
    E("api_keys.list", "get", lambda w: f"{V1}/api-keys/", "list"),
    E("api_keys.read", "get", lambda w: f"{V1}/api-keys/{w.b_key.id}/", "detail"),
    E("api_keys.create", "post", lambda w: f"{V1}/api-keys/", "create",
      lambda w: {"membership": str(w.b_user.id), "name": "ci", "scopes": ["kv.read"]}, 201),
    E("api_keys.update", "patch", lambda w: f"{V1}/api-keys/{w.b_key.id}/", "write", lambda w: {"name": "renamed"}),
    E("api_keys.revoke", "post", lambda w: f"{V1}/api-keys/{w.b_key.id}/revoke/", "write",
      lambda w: {"reason": "leaked"}),
    E("api_keys.rotate", "post", lambda w: f"{V1}/api-keys/{w.b_key.id}/rotate/", "write", ok=201),
    E("mcp_sessions.list", "get", lambda w: f"{V1}/mcp-sessions/", "list"),
    E("mcp_sessions.read", "get", lambda w: f"{V1}/mcp-sessions/{w.b_session.id}/", "detail"),
    E("mcp_sessions.revoke", "post", lambda w: f"{V1}/mcp-sessions/{w.b_session.id}/revoke/", "write"),
    E("audit_events.list", "get", lambda w: f"{V1}/audit-events/", "list"),
    E("audit_events.read", "get", lambda w: f"{V1}/audit-events/{w.b_audit.id}/", "detail"),
    E("usage.list", "get", lambda w: f"{V1}/usage/", "list"),
    E("usage.read", "get", lambda w: f"{V1}/usage/{w.b_usage.id}/", "detail"),
    E("application_plane.events", "post", lambda w: f"{V1}/application-plane/events/", "app_plane",
      lambda w: {"id": "evt-1", "detail-type": "provisionSuccess", "detail": {"tenantId": str(w.b.id)}}),
    E("decide.check", "post", lambda w: "/api/decide/v1/check", "check", lambda w: {"tool": "kv_get"}),
    E("decide.explain", "get", lambda w: f"/api/decide/v1/explain?tenant={w.b.slug}&user=b-user", "explain"),
]

# kind -> caller -> expected status (None: the endpoint's own success status)
EXPECTED = {
    "list": {"wrong_tenant": None, "tenant_admin": None},
    "global": {"wrong_tenant": None, "tenant_admin": None},
    "detail": {"wrong_tenant": 404, "tenant_admin": None},
    "write": {"wrong_tenant": 404, "tenant_admin": None},
    "create": {"wrong_tenant": 400, "tenant_admin": None},
    "staff": {"wrong_tenant": 403, "tenant_admin": 403},
    "app_plane": {"wrong_tenant": 401, "no_capability": 401, "staff": 401, "tenant_admin": 401},
    "check": {"wrong_tenant": None, "no_capability": None, "staff": 401, "tenant_admin": None},
    "explain": {"wrong_tenant": 404, "tenant_admin": None},
}


# endpoint -> the platform capability a service key needs (None: any service key); absent: refused with 403.
SERVICE_KEY_NEEDS = {
    "tenants.list": PlatformCapability.TENANTS_READ,
    "tenants.read": PlatformCapability.TENANTS_READ,
    "tenants.limits": PlatformCapability.TENANTS_READ,
    "tenants.create": PlatformCapability.TENANTS_CREATE,
    "tenants.update": PlatformCapability.TENANTS_CREATE,
    "tenants.suspend": PlatformCapability.TENANTS_LIFECYCLE,
    "tenants.resume": PlatformCapability.TENANTS_LIFECYCLE,
    "tenants.offboard": PlatformCapability.TENANTS_LIFECYCLE,
    "tenants.change_plan": PlatformCapability.PLANS,
    "plans.list": None,
    "plans.read": None,
    "plans.create": PlatformCapability.PLANS,
    "plans.update": PlatformCapability.PLANS,
    **dict.fromkeys(
        ("limit_overrides.list", "limit_overrides.read", "limit_overrides.create", "limit_overrides.update",
         "limit_overrides.delete"),
        PlatformCapability.LIMITS,
    ),
}


def service_key_status(endpoint: Endpoint, capabilities: frozenset[str]) -> int:
    if endpoint.kind in ("app_plane", "check", "explain"):
        return 401  # never a tenant principal outside /api/v1/, and not the app plane's secret
    if endpoint.name not in SERVICE_KEY_NEEDS:
        return 403
    needed = SERVICE_KEY_NEEDS[endpoint.name]
    return endpoint.ok if needed is None or needed in capabilities else 403


def client_of(world: World, caller: str):
    if caller == "oauth_token":
        client = client_for(world, "anonymous")
        client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {oauth_tokens(world.b_admin).access_token}"
        return client
    if caller in SERVICE_KEY_CALLERS:
        return service_key_client(SERVICE_KEY_CALLERS[caller])
    return client_for(world, caller)


def expected_status(endpoint: Endpoint, caller: str) -> int:
    if caller == "oauth_token":
        return 401  # bound to the MCP resource (RFC 8707): never a credential for the APIs
    if caller in SERVICE_KEY_CALLERS:
        return service_key_status(endpoint, SERVICE_KEY_CALLERS[caller])
    by_caller = {"anonymous": 401, "no_capability": 403, "staff": None, **EXPECTED[endpoint.kind]}
    status = by_caller[caller]
    return endpoint.ok if status is None else status


def call(client, endpoint: Endpoint, world: World):
    method = getattr(client, endpoint.method)
    if endpoint.method == "get":
        return method(endpoint.path(world))
    return method(endpoint.path(world), data=json.dumps(endpoint.body(world)), content_type="application/json")


@pytest.mark.django_db
@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.name)
def test_authorization_matrix(world, endpoint, caller, settings):
    settings.APP_PLANE_WEBHOOK_SECRET = "app-plane-secret-for-tests"
    expected = expected_status(endpoint, caller)
    client = client_of(world, caller)
    before = snapshot()

    response = call(client, endpoint, world)

    assert response.status_code == expected, response.content[:500]
    if response.status_code == 204:
        return
    body = response.json()
    if expected >= 400:
        assert set(body) == {"code", "message", "details"}, body
        assert "Traceback" not in response.content.decode()
        assert snapshot() == before, "a denied request changed something"
    if caller == "wrong_tenant":
        # An id the caller sent may be echoed ("does not exist", same as for a made-up id); nothing else.
        sent = endpoint.path(world) + json.dumps(endpoint.body(world))
        leaked = [i for i in world.b_ids() if i in response.content.decode() and i not in sent]
        assert not leaked, f"tenant B's ids leaked to tenant A: {leaked}"
    if endpoint.kind == "list" and caller in ("staff", "tenant_admin"):
        assert any(i in response.content.decode() for i in world.b_ids()), "B's own rows are missing from its list"
        if caller == "tenant_admin":
            assert str(world.a.id) not in response.content.decode(), "A's rows appear in B's list"


def test_every_route_is_in_the_matrix(db):
    """A new endpoint must be added to the matrix: compare with both OpenAPI schemas."""
    from django.test import Client

    drf = Client().get("/api/v1/schema/?format=json").json()
    ninja = Client().get("/api/decide/openapi.json").json()
    documented = {(m, p) for schema in (drf, ninja) for p, ops in schema["paths"].items() for m in ops}
    covered = set()
    for endpoint in ENDPOINTS:
        path = endpoint.path(build_placeholder_world()).split("?")[0]
        covered.add((endpoint.method, path))
    missing = {(m, p) for m, p in documented if (m, normalise(p)) not in {(cm, normalise(cp)) for cm, cp in covered}}
    assert not missing, f"endpoints missing from the authorization matrix: {sorted(missing)}"


class _Any:
    id = plan_id = slug = "{id}"

    def __getattr__(self, name):
        return self


def build_placeholder_world():
    return _Any()


def normalise(path: str) -> str:
    import re

    return re.sub(r"\{[^}]+\}", "{id}", path)
