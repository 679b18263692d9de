"""Reads of the tenancy domain that more than one adapter needs."""

import uuid

from django.db.models import QuerySet

from tenants.models import ApiKey, AuditEvent, Membership, Tenant, UsageCounter
from tenants.policy.version import policy_version  # noqa: F401  (re-exported for adapters)


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
    return Membership.objects.select_related("user", "role", "tenant").filter(tenant=tenant, user__username=username).first()


def api_keys_of(*, membership: Membership) -> QuerySet[ApiKey]:
    return ApiKey.objects.filter(membership=membership)


def audit_events_for(*, tenant: Tenant) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(tenant=tenant)


def usage_for(*, tenant: Tenant) -> QuerySet[UsageCounter]:
    return UsageCounter.objects.filter(tenant=tenant)
