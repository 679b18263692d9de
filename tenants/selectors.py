"""Reads of the tenancy domain that more than one adapter needs."""

import uuid
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db.models import BigIntegerField, Case, F, FilteredRelation, Q, QuerySet, Value, When
from django.db.models.functions import Coalesce

from tenants.limits import LIMIT_NAMES, Limit
from tenants.models import ApiKey, AuditEvent, LimitOverride, Membership, Tenant, UsageCounter
from tenants.policy.version import policy_version  # noqa: F401  (re-exported for adapters)
from tenants.services.tenants import OFFBOARD_FROM, RESUME_FROM, SUSPEND_FROM


def tenant_get(*, slug_or_id: str) -> Tenant | None:
    qs = Tenant.objects.select_related("plan")
    tenant = qs.filter(slug=slug_or_id).first()
    if tenant is None:
        try:
            return qs.filter(pk=uuid.UUID(str(slug_or_id))).first()
        except ValueError:
            return None
    return tenant


def membership_for(*, tenant: Tenant, username: str) -> Membership | None:
    """The member with this platform username, or with this name in the tenant's namespace (`<name>@<slug>`)."""
    members = Membership.objects.select_related("user", "role", "tenant").filter(tenant=tenant)
    return (
        members.filter(user__username=username).first()
        or members.filter(user__username=f"{username}@{tenant.slug}").first()
    )


def user_by_username(*, username: str):
    """Any platform user: for staff adapters only, never for an answer to a tenant key."""
    return get_user_model().objects.filter(username=username).first()


def api_keys_of(*, membership: Membership) -> QuerySet[ApiKey]:
    return ApiKey.objects.filter(membership=membership)


def audit_events_for(*, tenant: Tenant) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(tenant=tenant)


def usage_for(*, tenant: Tenant) -> QuerySet[UsageCounter]:
    return UsageCounter.objects.filter(tenant=tenant)


@dataclass(frozen=True)
class EffectiveLimit:
    limit: str
    label: str
    value: int
    overridden: bool


def tenant_effective_limits(*, tenant: Tenant) -> list[EffectiveLimit]:
    """Every limit in force for the tenant: its override where it has one, else its plan's value."""
    overrides = dict(LimitOverride.objects.filter(tenant=tenant).order_by().values_list("limit", "value"))
    return [
        EffectiveLimit(limit=name, label=Limit(name).label, value=overrides.get(name, value), overridden=name in overrides)
        for name, value in tenant.plan.limits().items()
    ]


def with_effective_limit(
    queryset: QuerySet, *, limit_field: str = "", limit_name: str = "", tenant_path: str = "tenant",
    limits: tuple[str, ...] = LIMIT_NAMES,
) -> QuerySet:
    """Annotate `effective_limit`: the tenant's limit in force (its override, else its plan's value), for reads
    that compare usage to limits over many tenants in one query. The limit is named by a field of the queried row
    (limit_field, e.g. "metric", one of `limits`) or is one fixed limit (limit_name). One LEFT JOIN, no subquery
    per row."""
    overrides = f"{tenant_path}__limit_overrides"
    named = F(limit_field) if limit_field else Value(limit_name)
    plan = f"{tenant_path}__plan__"
    if limit_name:
        plan_value = F(plan + limit_name)
    else:
        plan_value = Case(*(When(**{limit_field: name}, then=F(plan + name)) for name in limits))
    return queryset.annotate(
        limit_override=FilteredRelation(overrides, condition=Q(**{f"{overrides}__limit": named}))
    ).annotate(effective_limit=Coalesce(F("limit_override__value"), plan_value, output_field=BigIntegerField()))


def tenant_status_actions(*, tenant: Tenant) -> list[str]:
    """The lifecycle operations the tenant's status allows now ("suspend", "resume", "offboard")."""
    allowed = {"suspend": SUSPEND_FROM, "resume": RESUME_FROM, "offboard": OFFBOARD_FROM}
    return [action for action, statuses in allowed.items() if tenant.status in statuses]
