"""A world of two tenants for API tests: B is the tenant under test, A is the neighbour."""

from dataclasses import dataclass

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from mcpbridge.models import McpSession
from tenants.api import ratelimit
from tenants.models import (
    ApiKey,
    ApplicationPlaneEvent,
    AuditEvent,
    IdempotencyRecord,
    LimitOverride,
    Membership,
    Organization,
    OrgMembership,
    Plan,
    Role,
    Tenant,
    UsageCounter,
)
from tenants.services import (
    Actor,
    role_create,
    service_account_create,
    service_key_issue,
    tenant_limit_set,
    usage_increment,
)
from tests.factories import ACTOR, add_to_org, make_key, make_member, make_org, make_tenant, make_user


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    ratelimit.reset()
    yield
    ratelimit.reset()


@dataclass
class World:
    a: Tenant
    b: Tenant
    a_admin_raw: str
    b_admin_raw: str
    b_user_raw: str
    b_admin: Membership
    b_user: Membership
    b_org: Organization
    b_org2: Organization
    b_org_membership: OrgMembership
    b_key: ApiKey
    b_override: LimitOverride
    b_session: McpSession
    b_audit: AuditEvent
    b_usage: UsageCounter
    custom_role: Role
    staff: object

    def b_ids(self) -> list[str]:
        """Ids of B's rows that must never appear in an answer to A's key."""
        return [str(x) for x in (self.b.id, self.b_admin.id, self.b_user.id, self.b_org.id, self.b_org2.id,
                                 self.b_org_membership.id, self.b_key.id, self.b_session.id)]


def build_world() -> World:
    a, b = make_tenant("tenant-a"), make_tenant("tenant-b")
    a_admin = make_member(a, role="admin", username="a-admin")
    b_admin = make_member(b, role="admin", username="b-admin")
    b_user = make_member(b, role="user", username="b-user")
    _, a_admin_raw = make_key(a_admin, name="a admin")
    _, b_admin_raw = make_key(b_admin, name="b admin")
    b_key, b_user_raw = make_key(b_user, name="b user")
    b_org, b_org2 = make_org(b, "b-org"), make_org(b, "b-org2")
    b_org_membership = add_to_org(b_org, b_user)
    make_org(a, "a-org")
    b_override = tenant_limit_set(tenant=b, limit="kv_items", value=77, actor=ACTOR)
    b_session = McpSession.objects.create(tenant=b, membership=b_user, api_key=b_key, transport="stdio")
    usage_increment(tenant_id=b.id, metric="tool_calls", amount=3)
    usage_increment(tenant_id=a.id, metric="tool_calls", amount=5)
    custom_role = role_create(slug="auditor", name="Auditor", capabilities=["kv.read"], actor=ACTOR)
    staff = make_user("staff", is_staff=True)
    return World(
        a=a, b=b, a_admin_raw=a_admin_raw, b_admin_raw=b_admin_raw, b_user_raw=b_user_raw, b_admin=b_admin,
        b_user=b_user, b_org=b_org, b_org2=b_org2, b_org_membership=b_org_membership, b_key=b_key,
        b_override=b_override, b_session=b_session, b_audit=AuditEvent.objects.filter(tenant=b).first(),
        b_usage=UsageCounter.objects.get(tenant=b), custom_role=custom_role, staff=staff,
    )


@pytest.fixture
def world(db) -> World:
    return build_world()


def client_for(world: World | None, who: str) -> Client:
    """who: anonymous | staff | tenant_admin (B's admin key) | wrong_tenant (A's admin key) | no_capability."""
    client = Client()
    if who == "staff":
        client.force_login(world.staff)
    raw = {"tenant_admin": "b_admin_raw", "wrong_tenant": "a_admin_raw", "no_capability": "b_user_raw"}.get(who)
    if raw:
        client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {getattr(world, raw)}"
    return client


def service_key_client(capabilities, account: str = "provisioner") -> Client:
    """A client whose bearer is a new platform service key with these platform capabilities."""
    staff = Actor("user:platform-admin")
    service_account = service_account_create(name=account, actor=staff)
    _, raw = service_key_issue(account=service_account, name="pipeline", capabilities=capabilities, actor=staff)
    client = Client()
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {raw}"
    return client


def snapshot() -> dict:
    """Everything an API call could change, in a comparable form."""
    return {
        "tenants": list(Tenant.objects.order_by("id").values(
            "id", "slug", "name", "status", "plan_id", "registration_data", "provisioning_output")),
        "plans": list(Plan.objects.order_by("id").values()),
        "overrides": list(LimitOverride.objects.order_by("id").values("id", "tenant_id", "limit", "value")),
        "roles": list(Role.objects.order_by("id").values("id", "slug", "name", "capabilities")),
        "orgs": list(Organization.objects.order_by("id").values("id", "slug", "name")),
        "memberships": list(Membership.objects.order_by("id").values("id", "user_id", "role_id")),
        "org_memberships": list(OrgMembership.objects.order_by("id").values("id", "role_id")),
        "keys": list(ApiKey.objects.order_by("id").values(
            "id", "name", "scopes", "revoked_at", "expires_at", "default_org_id")),
        "sessions": list(McpSession.objects.order_by("id").values("id", "ended_at", "end_reason")),
        # A refused credential is itself audited (an auth_failure row); nothing else may be written.
        "audit": AuditEvent.objects.exclude(action="auth_failure").count(),
        "usage": list(UsageCounter.objects.order_by("id").values()),
        "idempotency": IdempotencyRecord.objects.count(),
        "app_plane": ApplicationPlaneEvent.objects.count(),
        "users": sorted(get_user_model().objects.values_list("username", flat=True)),
    }


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Users made by the factories get a password; the default hasher would dominate every test's run time.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
