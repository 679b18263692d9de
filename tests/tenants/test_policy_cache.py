"""The resolver is cached, and every change to one of its inputs is seen by the next resolution."""


import pytest

from tenants.capabilities import Capability
from tenants.limits import Limit
from tenants.models import Plan, Role
from tenants.policy import ResolutionError, ResolutionFailure, resolve_api_key
from tenants.services import (
    api_key_revoke,
    membership_change_role,
    plan_update,
    role_update,
    tenant_change_plan,
    tenant_limit_set,
    tenant_resume,
    tenant_suspend,
)
from tests.factories import ACTOR, make_key, make_member, make_tenant, revoke_in_another_process



@pytest.fixture
def member_key(db):
    membership = make_member(make_tenant(), "user")
    key, raw = make_key(membership)
    return membership, key, raw


def test_cached_resolution_costs_one_query(member_key, django_assert_num_queries):
    _, _, raw = member_key
    resolve_api_key(raw)
    with django_assert_num_queries(1):  # the policy version; nothing else
        resolve_api_key(raw)


def test_role_edit_is_seen_next_time(member_key):
    membership, _, raw = member_key
    assert resolve_api_key(raw).can(Capability.KV_WRITE)
    role_update(role=membership.role, capabilities=[Capability.KV_READ], actor=ACTOR)
    assert not resolve_api_key(raw).can(Capability.KV_WRITE)


def test_role_change_of_member_is_seen_next_time(member_key):
    membership, _, raw = member_key
    assert not resolve_api_key(raw).can(Capability.SECRETS_WRITE)
    membership_change_role(membership=membership, role=Role.objects.get(slug="admin"), actor=ACTOR)
    assert resolve_api_key(raw).can(Capability.SECRETS_WRITE)


def test_revocation_is_seen_next_time(member_key):
    _, key, raw = member_key
    resolve_api_key(raw)
    api_key_revoke(api_key=key, actor=ACTOR)
    with pytest.raises(ResolutionError) as info:
        resolve_api_key(raw)
    assert info.value.reason == ResolutionFailure.REVOKED


def test_plan_and_override_changes_are_seen_next_time(member_key):
    membership, _, raw = member_key
    tenant = membership.tenant
    assert resolve_api_key(raw).limits[Limit.KV_ITEMS] == tenant.plan.kv_items
    plan_update(plan=tenant.plan, limits={"kv_items": 7}, actor=ACTOR)
    assert resolve_api_key(raw).limits[Limit.KV_ITEMS] == 7
    tenant_limit_set(tenant=tenant, limit=Limit.KV_ITEMS, value=9, actor=ACTOR)
    assert resolve_api_key(raw).limits[Limit.KV_ITEMS] == 9
    tenant_change_plan(tenant=tenant, plan=Plan.objects.get(slug="free"), actor=ACTOR)
    principal = resolve_api_key(raw)
    assert principal.plan_slug == "free"
    assert principal.limits[Limit.KV_ITEMS] == 9  # the override still wins
    assert principal.limits[Limit.REQUESTS_PER_MINUTE] == Plan.objects.get(slug="free").requests_per_minute


def test_suspension_and_resumption_are_seen_next_time(member_key):
    membership, _, raw = member_key
    resolve_api_key(raw)
    tenant_suspend(tenant=membership.tenant, actor=ACTOR)
    with pytest.raises(ResolutionError):
        resolve_api_key(raw)
    tenant_resume(tenant=membership.tenant, actor=ACTOR)
    assert resolve_api_key(raw).tenant_status == "active"


@pytest.mark.django_db(transaction=True)
def test_revocation_in_another_process_is_seen_by_this_process():
    membership = make_member(make_tenant(), "user")
    key, raw = make_key(membership)
    resolve_api_key(raw)  # cached in this process's memory cache
    revoke_in_another_process(key)
    with pytest.raises(ResolutionError) as info:
        resolve_api_key(raw)
    assert info.value.reason == ResolutionFailure.REVOKED
