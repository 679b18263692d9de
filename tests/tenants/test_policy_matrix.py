"""Policy resolution: every role × capability × context × key scope, and every way a key is refused."""

import datetime
import itertools
import time

import pytest
from django.utils import timezone

from tenants.capabilities import ALL_CAPABILITIES, BUILTIN_ROLES, Capability
from tenants.models import ApiKey, Role
from tenants.policy import ContextNotAllowed, ResolutionError, ResolutionFailure, explain, resolve_api_key
from tests.factories import ACTOR, add_to_org, make_key, make_member, make_org, make_tenant

ROLES = list(BUILTIN_ROLES)
SCOPES = [None, [Capability.KV_READ], [Capability.KV_READ, Capability.KV_WRITE, Capability.SECRETS_WRITE]]


@pytest.fixture
def world(db):
    tenant = make_tenant()
    org = make_org(tenant, "shared")
    return tenant, org


@pytest.mark.parametrize("personal_role,org_role", list(itertools.product(ROLES, ROLES)))
@pytest.mark.parametrize("scope", SCOPES, ids=["no-scope", "kv-read", "kv-rw-secrets-w"])
def test_effective_capabilities_match_role_and_scope_in_each_context(world, personal_role, org_role, scope):
    tenant, org = world
    membership = make_member(tenant, personal_role)
    add_to_org(org, membership, org_role)
    _, raw = make_key(membership, scopes=scope)
    scope_set = set(scope) if scope else set(ALL_CAPABILITIES)

    for context, role in (("personal", personal_role), (org.slug, org_role)):
        principal = resolve_api_key(raw, org=None if context == "personal" else context)
        role_caps = set(BUILTIN_ROLES[role][1])
        for capability in sorted(ALL_CAPABILITIES):
            expected = capability in role_caps and capability in scope_set
            assert principal.can(capability) is expected, (context, role, capability)
            decision = explain(principal, capability, context)
            assert decision.allowed is expected
            granted = "grants" if capability in role_caps else "does not grant"
            assert any(f"role {role!r}" in r and granted in r for r in decision.reasons)
            if scope is not None:
                word = "includes" if capability in scope_set else "excludes"
                assert f"API key scope {word} {capability}" in decision.reasons


def test_builtin_roles_are_as_designed(db):
    caps = {r.slug: set(r.capabilities) for r in Role.objects.filter(is_builtin=True)}
    assert caps["admin"] == set(ALL_CAPABILITIES)
    assert caps["user"] == {
        "kv.read", "kv.write", "artifacts.get", "artifacts.put", "artifacts.list", "events.send", "secrets.read"
    }
    assert caps["viewer"] == {"kv.read", "artifacts.get", "artifacts.list"}


def test_namespaces_differ_per_tenant_user_and_context(world):
    tenant, org = world
    a, b = make_member(tenant), make_member(tenant)
    add_to_org(org, a)
    add_to_org(org, b)
    pa, pb = resolve_api_key(make_key(a)[1]), resolve_api_key(make_key(b)[1])
    other = resolve_api_key(make_key(make_member(make_tenant()))[1])
    assert len({pa.namespace, pb.namespace, other.namespace}) == 3
    assert pa.namespace.startswith(f"t/{tenant.id}/")
    assert pa.in_context("shared").namespace == pb.in_context("shared").namespace == f"t/{tenant.id}/o/{org.id}"
    assert pa.in_context(None).namespace == pa.namespace


def test_org_context_needs_org_membership(world):
    tenant, org = world
    membership = make_member(tenant, "admin")
    _, raw = make_key(membership)
    with pytest.raises(ContextNotAllowed):
        resolve_api_key(raw, org=org.slug)
    decision = explain(resolve_api_key(raw), "kv.read", org.slug)
    assert not decision.allowed
    assert "not a member of organization" in decision.reasons[-1]
    other_tenant_org = make_org(make_tenant(), "shared")
    with pytest.raises(ContextNotAllowed):
        resolve_api_key(raw, org=str(other_tenant_org.id))


def test_default_org_sets_the_starting_context(world):
    tenant, org = world
    membership = make_member(tenant, "user")
    add_to_org(org, membership, "viewer")
    _, raw = make_key(membership, default_org=org)
    principal = resolve_api_key(raw)
    assert principal.context.kind == "org" and principal.context.org_id == str(org.id)
    assert not principal.can("kv.write")


def test_unknown_capability_is_denied_with_reason(world):
    principal = resolve_api_key(make_key(make_member(world[0], "admin"))[1])
    decision = explain(principal, "kv.everything")
    assert not decision.allowed and "not a known capability" in decision.reasons[0]


def _reason(raw):
    with pytest.raises(ResolutionError) as info:
        resolve_api_key(raw)
    return info.value.reason


def test_every_rejection_reason_is_distinct(world):
    tenant, _ = world
    assert _reason("not-a-key") == ResolutionFailure.MALFORMED
    assert _reason("cpk_00000000_" + "A" * 43) == ResolutionFailure.UNKNOWN

    key, raw = make_key(make_member(tenant))
    tampered = raw[:-1] + ("B" if raw[-1] != "B" else "C")
    assert _reason(tampered) == ResolutionFailure.UNKNOWN

    from tenants.services import api_key_revoke, tenant_offboard, tenant_suspend

    api_key_revoke(api_key=key, actor=ACTOR)
    assert _reason(raw) == ResolutionFailure.REVOKED

    expired, raw_expired = make_key(make_member(tenant), expires_at=timezone.now() + datetime.timedelta(hours=1))
    ApiKey.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    assert _reason(raw_expired) == ResolutionFailure.EXPIRED

    inactive = make_member(tenant)
    _, raw_inactive = make_key(inactive)
    inactive.user.is_active = False
    inactive.user.save()
    assert _reason(raw_inactive) == ResolutionFailure.USER_INACTIVE

    _, raw_ok = make_key(make_member(tenant))
    tenant_suspend(tenant=tenant, actor=ACTOR)
    assert _reason(raw_ok) == ResolutionFailure.TENANT_SUSPENDED
    tenant_offboard(tenant=tenant, actor=ACTOR)
    assert _reason(raw_ok) == ResolutionFailure.TENANT_OFFBOARDING
    from tenants.services import tenant_mark_offboarded

    tenant_mark_offboarded(tenant=tenant, actor=ACTOR)
    assert _reason(raw_ok) == ResolutionFailure.TENANT_OFFBOARDED


def test_expiry_is_checked_on_cached_principals(world, django_assert_num_queries):
    # Expiry moves with time, not with the policy version: the cached principal must be checked on every call.
    expires_at = timezone.now() + datetime.timedelta(seconds=1)
    key, raw = make_key(make_member(world[0]), expires_at=expires_at)
    resolve_api_key(raw)  # cached now
    time.sleep(max(0.0, (expires_at - timezone.now()).total_seconds()) + 0.05)
    with django_assert_num_queries(1):  # the policy version only: served from the cache
        assert _reason(raw) == ResolutionFailure.EXPIRED
