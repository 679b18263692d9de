import threading

import pytest
from django.db import connection, connections

from tenants.models import AuditEvent, Membership, OrgMembership, Plan, Role, Tenant, UsageCounter
from tenants.services import (
    ServiceError,
    api_key_rotate,
    membership_remove,
    org_membership_add,
    plan_create,
    role_create,
    role_delete,
    role_update,
    tenant_change_plan,
    tenant_create,
    tenant_limit_clear,
    tenant_limit_set,
    tenant_mark_offboarded,
    tenant_offboard,
    tenant_resume,
    tenant_suspend,
    usage_increment,
)
from tenants.services.errors import ConflictError, InvalidTransition
from tenants.signals import LifecycleEvent
from tests.factories import ACTOR, add_to_org, make_key, make_member, make_org, make_tenant

pytestmark = pytest.mark.django_db


def test_tenant_lifecycle_moves_through_every_status(lifecycle_events):
    tenant = make_tenant("acme")
    assert tenant.status == "active"
    tenant_suspend(tenant=tenant, actor=ACTOR)
    assert Tenant.objects.get(pk=tenant.pk).status == "suspended"
    tenant_resume(tenant=tenant, actor=ACTOR)
    assert Tenant.objects.get(pk=tenant.pk).status == "active"
    tenant_offboard(tenant=tenant, actor=ACTOR)
    tenant_mark_offboarded(tenant=tenant, actor=ACTOR)
    assert Tenant.objects.get(pk=tenant.pk).status == "offboarded"
    assert [e for _, e, _ in lifecycle_events] == [
        LifecycleEvent.ONBOARDED,
        LifecycleEvent.SUSPENDED,
        LifecycleEvent.RESUMED,
        LifecycleEvent.OFFBOARDING,
        LifecycleEvent.OFFBOARDED,
    ]
    operations = list(
        AuditEvent.objects.filter(tenant=tenant).order_by("id").values_list("details__operation", flat=True)
    )
    assert operations == [
        "tenant.create", "tenant.suspend", "tenant.resume", "tenant.offboard", "tenant.mark_offboarded"
    ]


@pytest.mark.parametrize(
    "steps,refused",
    [
        ([], tenant_mark_offboarded),
        ([tenant_offboard], tenant_suspend),
        ([tenant_offboard], tenant_resume),
        ([tenant_offboard, tenant_mark_offboarded], tenant_offboard),
    ],
)
def test_invalid_transitions_are_refused_and_change_nothing(steps, refused):
    tenant = make_tenant()
    for step in steps:
        step(tenant=tenant, actor=ACTOR)
    before = Tenant.objects.get(pk=tenant.pk).status
    with pytest.raises(InvalidTransition) as info:
        refused(tenant=tenant, actor=ACTOR)
    assert tenant.slug in info.value.message
    assert Tenant.objects.get(pk=tenant.pk).status == before


def test_repeating_a_transition_is_a_no_op(lifecycle_events):
    tenant = make_tenant()
    tenant_suspend(tenant=tenant, actor=ACTOR)
    tenant_suspend(tenant=tenant, actor=ACTOR)
    assert [e for _, e, _ in lifecycle_events].count(LifecycleEvent.SUSPENDED) == 1


def test_duplicate_slug_is_a_conflict_naming_the_field():
    make_tenant("taken")
    with pytest.raises(ConflictError) as info:
        make_tenant("taken")
    assert info.value.field == "slug"
    assert Tenant.objects.filter(slug="taken").count() == 1


def test_invalid_slug_is_refused_with_a_message():
    with pytest.raises(ServiceError) as info:
        tenant_create(slug="Not a slug!", name="x", plan=Plan.objects.get(slug="free"), actor=ACTOR)
    assert info.value.field == "slug"
    assert not Tenant.objects.filter(name="x").exists()


def test_plan_change_emits_event_with_previous_plan(lifecycle_events):
    tenant = make_tenant(plan="free")
    tenant_change_plan(tenant=tenant, plan=Plan.objects.get(slug="standard"), actor=ACTOR)
    assert lifecycle_events[-1] == (tenant.slug, LifecycleEvent.PLAN_CHANGED, {"plan": "free"})
    assert Tenant.objects.get(pk=tenant.pk).plan.slug == "standard"


def test_limit_overrides_set_replace_and_clear():
    tenant = make_tenant()
    tenant_limit_set(tenant=tenant, limit="kv_items", value=5, actor=ACTOR)
    tenant_limit_set(tenant=tenant, limit="kv_items", value=6, actor=ACTOR)
    assert list(tenant.limit_overrides.values_list("limit", "value")) == [("kv_items", 6)]
    tenant_limit_clear(tenant=tenant, limit="kv_items", actor=ACTOR)
    assert not tenant.limit_overrides.exists()
    with pytest.raises(ServiceError, match="Unknown limits"):
        tenant_limit_set(tenant=tenant, limit="bananas", value=1, actor=ACTOR)
    with pytest.raises(ServiceError, match="whole number"):
        tenant_limit_set(tenant=tenant, limit="kv_items", value=-1, actor=ACTOR)


def test_plan_create_validates_limits():
    with pytest.raises(ServiceError, match="Unknown limits: speed"):
        plan_create(slug="gold", name="Gold", limits={"speed": 1}, actor=ACTOR)
    plan = plan_create(slug="gold", name="Gold", limits={"kv_items": 3}, actor=ACTOR)
    assert plan.kv_items == 3 and plan.storage_bytes == Plan._meta.get_field("storage_bytes").default


def test_org_membership_must_stay_inside_the_tenant():
    tenant, other = make_tenant(), make_tenant()
    with pytest.raises(ServiceError, match="different tenants"):
        org_membership_add(
            organization=make_org(other), membership=make_member(tenant), role=Role.objects.get(slug="user"), actor=ACTOR
        )
    assert not OrgMembership.objects.exists()


def test_removing_a_member_removes_their_keys_and_org_places():
    tenant = make_tenant()
    membership = make_member(tenant)
    add_to_org(make_org(tenant), membership)
    make_key(membership)
    membership_remove(membership=membership, actor=ACTOR)
    assert not Membership.objects.filter(pk=membership.pk).exists()
    assert not OrgMembership.objects.exists()
    from tenants.models import ApiKey

    assert not ApiKey.objects.exists()


def test_roles_validate_capabilities_and_builtins_are_protected():
    with pytest.raises(ServiceError, match="Unknown capabilities: fly"):
        role_create(slug="pilot", name="Pilot", capabilities=["kv.read", "fly"], actor=ACTOR)
    role = role_create(slug="auditor", name="Auditor", capabilities=["kv.read", "kv.read"], actor=ACTOR)
    assert role.capabilities == ["kv.read"]
    role_update(role=role, capabilities=["artifacts.list"], actor=ACTOR)
    assert Role.objects.get(slug="auditor").capabilities == ["artifacts.list"]
    with pytest.raises(ConflictError, match="built in"):
        role_delete(role=Role.objects.get(slug="admin"), actor=ACTOR)
    make_member(make_tenant(), "auditor")
    with pytest.raises(ConflictError, match="still assigned"):
        role_delete(role=role, actor=ACTOR)


def test_key_rotation_revokes_the_old_key_and_keeps_its_settings():
    tenant = make_tenant()
    membership = make_member(tenant)
    org = make_org(tenant)
    old, _ = make_key(membership, scopes=["kv.read"], default_org=org)
    new, raw = api_key_rotate(api_key=old, actor=ACTOR)
    old.refresh_from_db()
    assert old.revoked_at is not None and new.prefix in old.revoked_reason
    assert (new.scopes, new.default_org_id, new.name) == (["kv.read"], org.pk, old.name)
    assert raw.startswith(new.prefix + "_")
    with pytest.raises(ServiceError, match="revoked"):
        api_key_rotate(api_key=old, actor=ACTOR)


def test_key_issue_validates_its_inputs():
    tenant = make_tenant()
    membership = make_member(tenant)
    with pytest.raises(ServiceError, match="Unknown capabilities"):
        make_key(membership, scopes=["root"])
    with pytest.raises(ServiceError, match="tenant"):
        make_key(membership, default_org=make_org(make_tenant()))
    with pytest.raises(ServiceError, match="name"):
        make_key(membership, name="  ")


@pytest.mark.django_db(transaction=True)
def test_usage_counter_increments_are_atomic_under_threads():
    if connection.vendor == "sqlite":
        threads_count, per_thread = 4, 25
    else:
        threads_count, per_thread = 8, 50
    tenant = make_tenant()
    errors = []

    def work():
        try:
            for _ in range(per_thread):
                usage_increment(tenant_id=tenant.id, metric="mcp.calls")
        except Exception as exc:  # surfaced below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work) for _ in range(threads_count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert UsageCounter.objects.get(tenant=tenant, metric="mcp.calls").value == threads_count * per_thread
