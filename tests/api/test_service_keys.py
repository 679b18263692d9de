"""Platform service keys: provisioning automation drives the tenant lifecycle over /api/v1/ with a bearer key,
each operation needs its platform capability, and the key never works as a tenant key anywhere else."""

import io
import json
import re

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tenants.models import AuditEvent, LimitOverride, PlatformServiceKey, ServiceAccount, Tenant
from tenants.platform_capabilities import ALL_PLATFORM_CAPABILITIES, PlatformCapability
from tenants.policy import ResolutionError, resolve_api_key
from tenants.policy.keys import key_digest
from tenants.policy.service_keys import resolve_service_key
from tenants.services import (
    Actor,
    ServiceError,
    service_account_create,
    service_key_issue,
    service_key_revoke,
    service_key_rotate,
)
from tests.api.conftest import snapshot
from tests.tenants.test_api_keys_and_audit import _every_stored_text

pytestmark = pytest.mark.django_db
V1 = "/api/v1"
STAFF = Actor("user:platform-admin")


@pytest.fixture
def account():
    return service_account_create(name="provisioner", description="signup pipeline", actor=STAFF)


def issue(account, *capabilities, **kwargs):
    """Return (PlatformServiceKey, raw key)."""
    return service_key_issue(account=account, name="pipeline", capabilities=capabilities, actor=STAFF, **kwargs)


def bearer(raw: str) -> Client:
    client = Client()
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {raw}"
    return client


def send(client, method, path, body=None, **headers):
    if method == "get":
        return client.get(path, **headers)
    return getattr(client, method)(path, data=json.dumps(body or {}), content_type="application/json", **headers)


def test_a_service_key_drives_the_whole_tenant_lifecycle(account):
    key, raw = issue(account, *ALL_PLATFORM_CAPABILITIES)
    api = bearer(raw)

    created = send(api, "post", f"{V1}/tenants/", {"slug": "acme", "name": "Acme", "plan": "free"},
                   HTTP_IDEMPOTENCY_KEY="signup-acme")
    assert created.status_code == 201, created.content
    tenant_id = created.json()["id"]
    assert created.json()["status"] == "active"
    replay = send(api, "post", f"{V1}/tenants/", {"slug": "acme", "name": "Acme", "plan": "free"},
                  HTTP_IDEMPOTENCY_KEY="signup-acme")
    assert replay.json()["id"] == tenant_id and Tenant.objects.filter(slug="acme").count() == 1

    assert send(api, "get", f"{V1}/tenants/?slug=acme").json()["results"][0]["id"] == tenant_id
    assert send(api, "patch", f"{V1}/tenants/{tenant_id}/", {"name": "Acme Inc"}).json()["name"] == "Acme Inc"
    assert send(api, "get", f"{V1}/plans/").status_code == 200
    plan = send(api, "post", f"{V1}/plans/", {"slug": "gold", "name": "Gold", "kv_items": 5000})
    assert plan.status_code == 201, plan.content
    assert send(api, "patch", f"{V1}/plans/{plan.json()['id']}/", {"kv_items": 6000}).status_code == 200
    changed = send(api, "post", f"{V1}/tenants/{tenant_id}/change-plan/", {"plan": "gold"})
    assert changed.status_code == 200 and changed.json()["plan"] == "gold"

    override = send(api, "post", f"{V1}/limit-overrides/", {"tenant": tenant_id, "limit": "secrets_count", "value": 3})
    assert override.status_code == 201, override.content
    override_id = override.json()["id"]
    assert send(api, "patch", f"{V1}/limit-overrides/{override_id}/", {"value": 4}).json()["value"] == 4
    limits = {row["limit"]: row for row in send(api, "get", f"{V1}/tenants/{tenant_id}/limits/").json()}
    assert limits["secrets_count"] == {"limit": "secrets_count", "value": 4, "source": "override"}
    assert limits["kv_items"]["value"] == 6000
    assert send(api, "delete", f"{V1}/limit-overrides/{override_id}/").status_code == 204
    assert not LimitOverride.objects.filter(tenant_id=tenant_id).exists()

    assert send(api, "post", f"{V1}/tenants/{tenant_id}/suspend/").json()["status"] == "suspended"
    assert send(api, "post", f"{V1}/tenants/{tenant_id}/resume/").json()["status"] == "active"
    offboarded = send(api, "post", f"{V1}/tenants/{tenant_id}/offboard/")
    assert offboarded.status_code == 200 and offboarded.json()["status"] in ("offboarding", "offboarded")

    operations = set(
        AuditEvent.objects.filter(actor="service:provisioner", action="api_call").values_list(
            "details__operation", flat=True
        )
    )
    assert {"tenant.create", "tenant.suspend", "tenant.resume", "tenant.offboard", "plan.create",
            "limit.set", "limit.clear", "tenant.change_plan"} <= operations
    assert not AuditEvent.objects.filter(actor__startswith="key:").exists()
    assert PlatformServiceKey.objects.get(pk=key.pk).last_used_at is not None


@pytest.mark.parametrize(
    ("method", "path", "body", "needed"),
    [
        ("post", "/tenants/", {"slug": "x-corp", "name": "X", "plan": "free"}, "platform.tenants.create"),
        ("get", "/tenants/", None, "platform.tenants.read"),
        ("post", "/tenants/{b}/suspend/", None, "platform.tenants.lifecycle"),
        ("post", "/tenants/{b}/offboard/", None, "platform.tenants.lifecycle"),
        ("post", "/tenants/{b}/change-plan/", {"plan": "free"}, "platform.plans"),
        ("post", "/plans/", {"slug": "gold", "name": "Gold"}, "platform.plans"),
        ("post", "/limit-overrides/", {"tenant": "{b}", "limit": "kv_items", "value": 1}, "platform.limits"),
    ],
)
def test_a_key_without_the_capability_gets_403_naming_it(account, world, method, path, body, needed):
    _, raw = issue(account, *(ALL_PLATFORM_CAPABILITIES - {needed}))
    before = snapshot()
    body = json.loads(json.dumps(body).replace("{b}", str(world.b.id))) if body else None

    response = send(bearer(raw), method, V1 + path.replace("{b}", str(world.b.id)), body)

    assert response.status_code == 403, response.content
    assert response.json()["code"] == "permission_denied"
    assert needed in response.json()["message"]
    assert snapshot() == before


@pytest.mark.parametrize("path", ["/memberships/", "/api-keys/", "/organizations/", "/audit-events/",
                                  "/mcp-sessions/", "/usage/", "/roles/"])
def test_tenant_internals_are_closed_to_service_keys(account, world, path):
    _, raw = issue(account, *ALL_PLATFORM_CAPABILITIES)
    response = send(bearer(raw), "get", V1 + path)
    assert response.status_code == 403
    assert "Platform service keys may use only" in response.json()["message"]


def test_revoked_unknown_expired_and_malformed_keys_get_401(account):
    revoked, revoked_raw = issue(account, PlatformCapability.TENANTS_READ)
    assert send(bearer(revoked_raw), "get", f"{V1}/tenants/").status_code == 200
    service_key_revoke(service_key=revoked, actor=STAFF, reason="leaked")
    expired, expired_raw = issue(account, PlatformCapability.TENANTS_READ)
    PlatformServiceKey.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timezone.timedelta(seconds=1))
    _, other_raw = issue(account, PlatformCapability.TENANTS_READ)
    unknown_raw = other_raw[:-4] + ("AAAA" if not other_raw.endswith("AAAA") else "BBBB")

    for raw, code in [(revoked_raw, "revoked_key"), (expired_raw, "expired_key"), (unknown_raw, "unknown_key"),
                      ("cps_nothex!_short", "malformed_key")]:
        response = send(bearer(raw), "get", f"{V1}/tenants/")
        assert response.status_code == 401, (code, response.content)
        assert response.json()["code"] == code
        assert response["WWW-Authenticate"].startswith("Bearer")
    refusal = AuditEvent.objects.get(action="auth_failure", actor=f"key:{revoked.prefix}")
    assert refusal.outcome == "denied" and refusal.details["reason"] == "revoked_key"


def test_rotation_replaces_the_key(account):
    old, old_raw = issue(account, PlatformCapability.TENANTS_READ)
    new, new_raw = service_key_rotate(service_key=old, actor=STAFF)
    assert new.capabilities == ["platform.tenants.read"] and new.account_id == account.id
    assert send(bearer(old_raw), "get", f"{V1}/tenants/").status_code == 401
    assert send(bearer(new_raw), "get", f"{V1}/tenants/").status_code == 200


def test_raw_key_is_never_stored(account):
    key, raw = issue(account, *ALL_PLATFORM_CAPABILITIES)
    send(bearer(raw), "post", f"{V1}/tenants/", {"slug": "acme", "name": "Acme", "plan": "free"})
    stored = _every_stored_text()
    assert key.prefix in stored
    assert raw not in stored and raw.split("_", 2)[2] not in stored
    assert PlatformServiceKey.objects.get(pk=key.pk).digest == key_digest(raw) != raw


def test_capabilities_are_validated_and_never_mix_with_tenant_ones(account):
    with pytest.raises(ServiceError, match="Unknown platform capabilities: kv.read"):
        issue(account, "kv.read")
    with pytest.raises(ServiceError, match="at least one platform capability"):
        issue(account)


def test_service_keys_and_tenant_keys_never_resolve_as_each_other(account, world):
    _, raw = issue(account, *ALL_PLATFORM_CAPABILITIES)
    with pytest.raises(ResolutionError) as refused:
        resolve_api_key(raw)
    assert refused.value.reason == "service_key_not_accepted"
    with pytest.raises(ResolutionError) as malformed:
        resolve_service_key(world.b_admin_raw)
    assert malformed.value.reason == "malformed_key"
    # A tenant admin key still cannot create tenants: platform powers come only from service keys and staff.
    tenant_key = send(bearer(world.b_admin_raw), "post", f"{V1}/tenants/", {"slug": "x", "name": "X", "plan": "free"})
    assert tenant_key.status_code == 403
    assert "platform service key" in tenant_key.json()["message"]


def test_decision_api_refuses_service_keys_clearly(account):
    _, raw = issue(account, *ALL_PLATFORM_CAPABILITIES)
    response = send(bearer(raw), "post", "/api/decide/v1/check", {"tool": "kv_get"})
    assert response.status_code == 401
    assert response.json()["code"] == "service_key_not_accepted"
    assert "/api/v1/" in response.json()["message"]


def test_runmcp_refuses_service_keys_clearly(account):
    _, raw = issue(account, *ALL_PLATFORM_CAPABILITIES)
    with pytest.raises(CommandError, match="platform service key: it works only with the provisioning API"):
        call_command("runmcp", api_key=raw)


def test_issue_service_key_command_prints_the_key_once(account):
    out, err = io.StringIO(), io.StringIO()
    call_command("issue_service_key", "--name", "terraform", "--capability", "platform.tenants.read",
                 "--capability", "platform.limits", stdout=out, stderr=err)
    raw = out.getvalue().strip()
    assert re.fullmatch(r"cps_[0-9a-f]{8}_[A-Za-z0-9_-]{43}", raw)
    principal = resolve_service_key(raw)
    assert principal.account_name == "terraform"
    assert principal.capabilities == {"platform.tenants.read", "platform.limits"}
    assert raw not in err.getvalue()
    with pytest.raises(CommandError):
        call_command("issue_service_key", "--name", "terraform", "--capability", "kv.read", stdout=io.StringIO())


@pytest.fixture
def staff_client(client):
    client.force_login(get_user_model().objects.create_superuser("root", "root@example.com", "pw"))
    return client


def test_admin_issues_a_key_shown_once_and_revokes_it(staff_client):
    staff_client.post(reverse("admin:tenants_serviceaccount_add"), {"name": "signup", "description": "signup flow"})
    account_event = AuditEvent.objects.get(target="service_account:signup")
    assert account_event.actor == "user:root" and account_event.action == "admin_change"
    account = ServiceAccount.objects.get(name="signup")

    response = staff_client.post(
        reverse("admin:tenants_platformservicekey_add"),
        {"account": account.pk, "name": "prod", "capabilities": ["platform.tenants.create"]},
    )
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    raw = re.search(r'<code class="raw-service-key">([^<]+)</code>', response.content.decode()).group(1)
    assert resolve_service_key(raw).capabilities == {"platform.tenants.create"}
    key = PlatformServiceKey.objects.get(account=account)
    change_page = staff_client.get(reverse("admin:tenants_platformservicekey_change", args=[key.pk])).content.decode()
    listing = staff_client.get(reverse("admin:tenants_platformservicekey_changelist")).content.decode()
    assert key.prefix in change_page and key.prefix in listing
    assert raw not in change_page and raw not in listing
    assert AuditEvent.objects.filter(target=f"service_key:{key.prefix}", details__operation="service_key.issue",
                                     actor="user:root").exists()

    created = send(bearer(raw), "post", f"{V1}/tenants/", {"slug": "from-admin-key", "name": "T", "plan": "free"})
    assert created.status_code == 201
    assert AuditEvent.objects.get(target="tenant:from-admin-key", details__operation="tenant.create").actor \
        == "service:signup"

    staff_client.post(reverse("admin:tenants_platformservicekey_changelist"),
                      {"action": "revoke_keys", "_selected_action": [key.pk]})
    assert PlatformServiceKey.objects.get(pk=key.pk).revoked_at is not None
    assert send(bearer(raw), "get", f"{V1}/plans/").status_code == 401


def test_admin_key_list_queries_do_not_grow_with_rows(staff_client, account):
    url = reverse("admin:tenants_platformservicekey_changelist")
    for _ in range(3):
        issue(account, PlatformCapability.TENANTS_READ)
    with CaptureQueriesContext(connection) as few:
        assert staff_client.get(url).status_code == 200
    for n in range(12):
        issue(service_account_create(name=f"pipeline-{n}", actor=STAFF), PlatformCapability.PLANS)
    with CaptureQueriesContext(connection) as many:
        assert staff_client.get(url).status_code == 200
    assert len(many) == len(few)
