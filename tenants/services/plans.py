from django.db import transaction

from tenants.limits import LIMIT_NAMES
from tenants.models import LimitOverride, Plan, Tenant
from tenants.services.actors import Actor
from tenants.services.audit import audit_record
from tenants.services.errors import ServiceError
from tenants.services.validation import full_clean


def _check_limits(limits: dict) -> None:
    unknown = sorted(set(limits) - set(LIMIT_NAMES))
    if unknown:
        raise ServiceError(f"Unknown limits: {', '.join(unknown)}. Known: {', '.join(LIMIT_NAMES)}.", field="limits")
    for name, value in limits.items():
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ServiceError(f"{name} must be a whole number of 0 or more, got {value!r}.", field=name)


@transaction.atomic
def plan_create(*, slug: str, name: str, actor: Actor, description: str = "", limits: dict | None = None) -> Plan:
    limits = limits or {}
    _check_limits(limits)
    plan = Plan(slug=slug, name=name, description=description, **limits)
    full_clean(plan)
    plan.save()
    audit_record(actor=actor, target=f"plan:{plan.slug}", details={"operation": "plan.create", "limits": limits})
    return plan


@transaction.atomic
def plan_update(
    *, plan: Plan, actor: Actor, name: str | None = None, description: str | None = None, limits: dict | None = None
) -> Plan:
    limits = limits or {}
    _check_limits(limits)
    for field, value in {"name": name, "description": description, **limits}.items():
        if value is not None:
            setattr(plan, field, value)
    full_clean(plan)
    plan.save()
    audit_record(actor=actor, target=f"plan:{plan.slug}", details={"operation": "plan.update", "limits": limits})
    return plan


@transaction.atomic
def tenant_limit_set(*, tenant: Tenant, limit: str, value: int, actor: Actor) -> LimitOverride:
    _check_limits({limit: value})
    override, _ = LimitOverride.objects.update_or_create(tenant=tenant, limit=limit, defaults={"value": value})
    audit_record(
        actor=actor,
        target=f"tenant:{tenant.slug}",
        tenant_id=tenant.id,
        details={"operation": "limit.set", "limit": limit, "to": value},
    )
    return override


@transaction.atomic
def tenant_limit_clear(*, tenant: Tenant, limit: str, actor: Actor) -> None:
    override = LimitOverride.objects.filter(tenant=tenant, limit=limit).first()
    if override is None:
        return
    override.delete()
    audit_record(
        actor=actor, target=f"tenant:{tenant.slug}", tenant_id=tenant.id, details={"operation": "limit.clear", "limit": limit}
    )
