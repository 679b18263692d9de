from django.db import transaction
from django.utils import timezone

from tenants.models import Plan, Tenant
from tenants.models.tenants import TenantStatus
from tenants.services.actors import Actor
from tenants.services.audit import audit_record
from tenants.services.errors import InvalidTransition
from tenants.services.validation import full_clean
from tenants.signals import LifecycleEvent, tenant_lifecycle


@transaction.atomic
def tenant_create(
    *, slug: str, name: str, plan: Plan, actor: Actor, registration_data: dict | None = None
) -> Tenant:
    tenant = Tenant(slug=slug, name=name, plan=plan, registration_data=registration_data or {})
    full_clean(tenant)
    tenant.save()
    audit_record(actor=actor, target=f"tenant:{tenant.slug}", tenant_id=tenant.id, details={"operation": "tenant.create"})
    tenant_lifecycle.send(sender=Tenant, tenant=tenant, event=LifecycleEvent.ONBOARDED, previous={})
    return tenant


@transaction.atomic
def tenant_update(*, tenant: Tenant, actor: Actor, name: str | None = None, registration_data: dict | None = None) -> Tenant:
    changed = []
    if name is not None and name != tenant.name:
        tenant.name = name
        changed.append("name")
    if registration_data is not None and registration_data != tenant.registration_data:
        tenant.registration_data = registration_data
        changed.append("registration_data")
    if changed:
        full_clean(tenant)
        tenant.save(update_fields=[*changed, "updated_at"])
        audit_record(
            actor=actor,
            target=f"tenant:{tenant.slug}",
            tenant_id=tenant.id,
            details={"operation": "tenant.update", "fields": changed},
        )
    return tenant


# Which status each lifecycle operation starts from (the admin's status buttons read it too).
SUSPEND_FROM = frozenset({TenantStatus.ACTIVE})
RESUME_FROM = frozenset({TenantStatus.SUSPENDED})
OFFBOARD_FROM = frozenset({TenantStatus.ACTIVE, TenantStatus.SUSPENDED})


def _transition(
    tenant: Tenant, *, actor: Actor, allowed_from: frozenset[str], to: str, event: str, operation: str
) -> Tenant:
    locked = Tenant.objects.select_for_update().get(pk=tenant.pk)
    if locked.status == to:
        return locked
    if locked.status not in allowed_from:
        raise InvalidTransition(
            f"Tenant {locked.slug} is {locked.status}; it can become {to} only from {', '.join(sorted(allowed_from))}."
        )
    previous = {"status": locked.status}
    locked.status = to
    locked.status_changed_at = timezone.now()
    locked.save(update_fields=["status", "status_changed_at", "updated_at"])
    audit_record(
        actor=actor,
        target=f"tenant:{locked.slug}",
        tenant_id=locked.id,
        details={"operation": operation, "from": previous["status"], "to": to},
    )
    tenant_lifecycle.send(sender=Tenant, tenant=locked, event=event, previous=previous)
    tenant.status, tenant.status_changed_at = locked.status, locked.status_changed_at
    return locked


@transaction.atomic
def tenant_suspend(*, tenant: Tenant, actor: Actor) -> Tenant:
    return _transition(
        tenant, actor=actor, allowed_from=SUSPEND_FROM, to=TenantStatus.SUSPENDED, event=LifecycleEvent.SUSPENDED,
        operation="tenant.suspend",
    )


@transaction.atomic
def tenant_resume(*, tenant: Tenant, actor: Actor) -> Tenant:
    return _transition(
        tenant, actor=actor, allowed_from=RESUME_FROM, to=TenantStatus.ACTIVE, event=LifecycleEvent.RESUMED,
        operation="tenant.resume",
    )


@transaction.atomic
def tenant_offboard(*, tenant: Tenant, actor: Actor) -> Tenant:
    """Start offboarding: access ends now; the data purge runs in the background and ends in offboarded."""
    return _transition(
        tenant,
        actor=actor,
        allowed_from=OFFBOARD_FROM,
        to=TenantStatus.OFFBOARDING,
        event=LifecycleEvent.OFFBOARDING,
        operation="tenant.offboard",
    )


@transaction.atomic
def tenant_mark_offboarded(*, tenant: Tenant, actor: Actor) -> Tenant:
    return _transition(
        tenant,
        actor=actor,
        allowed_from={TenantStatus.OFFBOARDING},
        to=TenantStatus.OFFBOARDED,
        event=LifecycleEvent.OFFBOARDED,
        operation="tenant.mark_offboarded",
    )


@transaction.atomic
def tenant_change_plan(*, tenant: Tenant, plan: Plan, actor: Actor) -> Tenant:
    locked = Tenant.objects.select_for_update().get(pk=tenant.pk)
    if locked.plan_id == plan.pk:
        return locked
    previous = {"plan": locked.plan.slug}
    locked.plan = plan
    locked.save(update_fields=["plan", "updated_at"])
    audit_record(
        actor=actor,
        target=f"tenant:{locked.slug}",
        tenant_id=locked.id,
        details={"operation": "tenant.change_plan", "from": previous["plan"], "to": plan.slug},
    )
    tenant_lifecycle.send(sender=Tenant, tenant=locked, event=LifecycleEvent.PLAN_CHANGED, previous=previous)
    tenant.plan = plan
    return locked
