"""Filters for every list of the provisioning API. Tenant filters take ids, so they never reveal
whether another tenant's object exists: the scoped queryset simply has no such rows."""

import datetime

import django_filters as filters
from django import forms
from django_filters.fields import IsoDateTimeField

from tenants.models import (
    ApiKey,
    AuditEvent,
    LimitOverride,
    Membership,
    Organization,
    OrgMembership,
    Plan,
    Role,
    Tenant,
    UsageCounter,
)
from tenants.models.audit import AuditAction, AuditOutcome
from tenants.models.tenants import TenantStatus


class UtcDateTimeField(IsoDateTimeField):
    """ISO 8601 with any offset, converted to UTC while the input is validated (PostgreSQL refuses offsets
    beyond ±15:59), so a moment that has no UTC representation is the caller's 400, not an OverflowError."""

    def to_python(self, value):
        parsed = super().to_python(value)
        if parsed is None:
            return None
        try:
            return parsed.astimezone(datetime.timezone.utc)
        except OverflowError:
            raise forms.ValidationError(
                "out of range: in UTC it falls before 0001-01-01 or after 9999-12-31 "
                "(example: 2026-01-31T12:00:00Z).", code="overflow") from None


class UtcDateTimeFilter(filters.IsoDateTimeFilter):
    field_class = UtcDateTimeField


class TenantFilter(filters.FilterSet):
    slug = filters.CharFilter()
    status = filters.ChoiceFilter(choices=TenantStatus.choices)
    plan = filters.CharFilter(field_name="plan__slug", help_text="Plan slug.")
    created_after = UtcDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = UtcDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = Tenant
        fields = ["slug", "status", "plan"]


class PlanFilter(filters.FilterSet):
    slug = filters.CharFilter()

    class Meta:
        model = Plan
        fields = ["slug"]


class LimitOverrideFilter(filters.FilterSet):
    tenant = filters.UUIDFilter(field_name="tenant_id")

    class Meta:
        model = LimitOverride
        fields = ["tenant", "limit"]


class RoleFilter(filters.FilterSet):
    slug = filters.CharFilter()

    class Meta:
        model = Role
        fields = ["slug", "is_builtin"]


class OrganizationFilter(filters.FilterSet):
    tenant = filters.UUIDFilter(field_name="tenant_id")
    slug = filters.CharFilter()

    class Meta:
        model = Organization
        fields = ["tenant", "slug"]


class MembershipFilter(filters.FilterSet):
    tenant = filters.UUIDFilter(field_name="tenant_id")
    username = filters.CharFilter(field_name="user__username")
    role = filters.CharFilter(field_name="role__slug", help_text="Role slug.")

    class Meta:
        model = Membership
        fields = ["tenant", "username", "role"]


class OrgMembershipFilter(filters.FilterSet):
    organization = filters.UUIDFilter(field_name="organization_id")
    membership = filters.UUIDFilter(field_name="membership_id")
    tenant = filters.UUIDFilter(field_name="organization__tenant_id")
    role = filters.CharFilter(field_name="role__slug", help_text="Role slug.")

    class Meta:
        model = OrgMembership
        fields = ["organization", "membership", "tenant", "role"]


class ApiKeyFilter(filters.FilterSet):
    membership = filters.UUIDFilter(field_name="membership_id")
    tenant = filters.UUIDFilter(field_name="membership__tenant_id")
    prefix = filters.CharFilter()
    revoked = filters.BooleanFilter(field_name="revoked_at", lookup_expr="isnull", exclude=True)

    class Meta:
        model = ApiKey
        fields = ["membership", "tenant", "prefix", "revoked"]


class AuditEventFilter(filters.FilterSet):
    tenant = filters.UUIDFilter(field_name="tenant_id")
    actor = filters.CharFilter(help_text="Exact actor, e.g. user:alice or key:cpk_1234abcd.")
    action = filters.ChoiceFilter(choices=AuditAction.choices)
    outcome = filters.ChoiceFilter(choices=AuditOutcome.choices)
    target = filters.CharFilter(lookup_expr="startswith")
    request_id = filters.CharFilter()
    created_after = UtcDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = UtcDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = AuditEvent
        fields = ["tenant", "actor", "action", "outcome", "target", "request_id"]


class UsageCounterFilter(filters.FilterSet):
    tenant = filters.UUIDFilter(field_name="tenant_id")
    metric = filters.CharFilter()
    day = filters.DateFilter()
    day_after = filters.DateFilter(field_name="day", lookup_expr="gte")
    day_before = filters.DateFilter(field_name="day", lookup_expr="lte")

    class Meta:
        model = UsageCounter
        fields = ["tenant", "metric", "day"]
