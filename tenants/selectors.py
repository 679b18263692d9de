"""Reads of the tenancy domain that more than one adapter needs."""

import uuid

from django.contrib.auth import get_user_model
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
