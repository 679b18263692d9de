"""Input and output shapes of the provisioning API. Inputs only validate; the services do the writing."""

from django.contrib.auth import get_user_model
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from tenants.api.fields import ScopedPrimaryKeyField, SlugReferenceField
from tenants.capabilities import Capability
from tenants.limits import LIMIT_NAMES, Limit
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

MAX_LIMIT_VALUE = 2**63 - 1


class ErrorSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Stable machine-readable code, e.g. invalid, not_found, rate_limited.")
    message = serializers.CharField(help_text="What went wrong, for a person to act on.")
    details = serializers.DictField(help_text="More context, e.g. fields -> messages for invalid input.")


# Tenants

class TenantSerializer(serializers.ModelSerializer):
    plan = serializers.SlugRelatedField(slug_field="slug", read_only=True)

    class Meta:
        model = Tenant
        fields = ["id", "slug", "name", "status", "plan", "registration_data", "provisioning_output",
                  "status_changed_at", "created_at", "updated_at"]
        read_only_fields = fields


class TenantCreateSerializer(serializers.Serializer):
    slug = serializers.SlugField(max_length=63)
    name = serializers.CharField(max_length=200)
    plan = SlugReferenceField(slug_field="slug", queryset=Plan.objects.all())
    registration_data = serializers.DictField(required=False, default=dict)


class TenantUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200, required=False)
    registration_data = serializers.DictField(required=False)


class TenantChangePlanSerializer(serializers.Serializer):
    plan = SlugReferenceField(slug_field="slug", queryset=Plan.objects.all())


class EffectiveLimitSerializer(serializers.Serializer):
    limit = serializers.ChoiceField(choices=Limit.choices)
    value = serializers.IntegerField()
    source = serializers.ChoiceField(choices=["plan", "override"])


# Plans and limits

class PlanSerializer(serializers.ModelSerializer):
    class Meta:
        model = Plan
        fields = ["id", "slug", "name", "description", *LIMIT_NAMES, "created_at", "updated_at"]
        read_only_fields = ["id", "created_at", "updated_at"]
        extra_kwargs = {name: {"required": False, "max_value": MAX_LIMIT_VALUE} for name in LIMIT_NAMES}


class PlanUpdateSerializer(PlanSerializer):
    class Meta(PlanSerializer.Meta):
        read_only_fields = ["id", "slug", "created_at", "updated_at"]


class LimitOverrideSerializer(serializers.ModelSerializer):
    tenant = ScopedPrimaryKeyField(tenant_path="id", queryset=Tenant.objects.all())
    value = serializers.IntegerField(min_value=0, max_value=MAX_LIMIT_VALUE)

    class Meta:
        model = LimitOverride
        fields = ["id", "tenant", "limit", "value", "created_at", "updated_at"]
        read_only_fields = ["id", "created_at", "updated_at"]
        validators = []  # setting an existing override updates it (tenant_limit_set is an upsert)


class LimitOverrideUpdateSerializer(serializers.Serializer):
    value = serializers.IntegerField(min_value=0, max_value=MAX_LIMIT_VALUE)


# Roles

class RoleSerializer(serializers.ModelSerializer):
    capabilities = serializers.ListField(child=serializers.ChoiceField(choices=Capability.choices))

    class Meta:
        model = Role
        fields = ["id", "slug", "name", "description", "capabilities", "is_builtin", "created_at", "updated_at"]
        read_only_fields = ["id", "is_builtin", "created_at", "updated_at"]


class RoleUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100, required=False)
    description = serializers.CharField(required=False, allow_blank=True)
    capabilities = serializers.ListField(child=serializers.ChoiceField(choices=Capability.choices), required=False)


# Organizations and memberships

class OrganizationSerializer(serializers.ModelSerializer):
    tenant = ScopedPrimaryKeyField(
        tenant_path="id", queryset=Tenant.objects.all(), required=False,
        help_text="Required for staff; a tenant key always creates in its own tenant.",
    )

    class Meta:
        model = Organization
        fields = ["id", "tenant", "slug", "name", "created_at"]
        read_only_fields = ["id", "created_at"]
        validators = []  # uniqueness per tenant is the service's answer (409)


class OrganizationUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)


class UserSerializer(serializers.ModelSerializer):
    email = serializers.CharField(read_only=True, help_text="May be empty.")

    class Meta:
        model = get_user_model()
        fields = ["id", "username", "email"]
        read_only_fields = fields


class MembershipSerializer(serializers.ModelSerializer):
    user = UserSerializer(read_only=True)
    role = serializers.SlugRelatedField(slug_field="slug", read_only=True)

    class Meta:
        model = Membership
        fields = ["id", "tenant", "user", "role", "created_at"]
        read_only_fields = fields


class MembershipCreateSerializer(serializers.Serializer):
    tenant = ScopedPrimaryKeyField(
        tenant_path="id", queryset=Tenant.objects.all(), required=False,
        help_text="Required for staff; a tenant key always adds to its own tenant.",
    )
    username = serializers.RegexField(
        r"^[\w.@+-]+\Z", max_length=150, required=False,
        help_text="Creates a new user of the tenant (without a password), named `<username>@<tenant slug>` "
        "platform-wide, so names never collide with other tenants'.",
    )
    email = serializers.EmailField(required=False, allow_blank=True, help_text="The new user's email.")
    existing_user = serializers.CharField(
        max_length=150, required=False,
        help_text="Staff only: the platform username of an existing user to link to the tenant.",
    )
    role = SlugReferenceField(slug_field="slug", queryset=Role.objects.all())

    def validate(self, attrs):
        if ("username" in attrs) == ("existing_user" in attrs):
            raise serializers.ValidationError(
                {"username": ["Send username to create a new user, or (staff) existing_user to link one."]}
            )
        return attrs


class RoleChangeSerializer(serializers.Serializer):
    role = SlugReferenceField(slug_field="slug", queryset=Role.objects.all())


class OrgMembershipSerializer(serializers.ModelSerializer):
    organization = ScopedPrimaryKeyField(tenant_path="tenant", queryset=Organization.objects.all())
    membership = ScopedPrimaryKeyField(tenant_path="tenant", queryset=Membership.objects.all())
    role = SlugReferenceField(slug_field="slug", queryset=Role.objects.all())

    class Meta:
        model = OrgMembership
        fields = ["id", "organization", "membership", "role", "created_at"]
        read_only_fields = ["id", "created_at"]
        validators = []


# API keys

SCOPES_HELP = (
    "null: unrestricted, whatever the member's role grants now or later. A list: only these capabilities "
    "(and only where the role grants them). An empty list: no capabilities at all."
)


class ApiKeySerializer(serializers.ModelSerializer):
    tenant = serializers.UUIDField(source="membership.tenant_id", read_only=True)
    scopes = serializers.ListField(
        child=serializers.ChoiceField(choices=Capability.choices), allow_null=True, help_text=SCOPES_HELP
    )

    class Meta:
        model = ApiKey
        fields = ["id", "membership", "tenant", "name", "prefix", "scopes", "default_org", "expires_at",
                  "revoked_at", "revoked_reason", "last_used_at", "created_at", "created_by"]
        read_only_fields = fields


class ApiKeyCreateSerializer(serializers.Serializer):
    membership = ScopedPrimaryKeyField(tenant_path="tenant", queryset=Membership.objects.all())
    name = serializers.CharField(max_length=100)
    scopes = serializers.ListField(
        child=serializers.ChoiceField(choices=Capability.choices), required=False, allow_null=True,
        allow_empty=True, help_text=SCOPES_HELP + " Omitted: null.",
    )
    default_org = ScopedPrimaryKeyField(
        tenant_path="tenant", queryset=Organization.objects.all(), required=False, allow_null=True
    )
    expires_at = serializers.DateTimeField(required=False, allow_null=True)


class ApiKeyUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100, required=False)
    scopes = serializers.ListField(
        child=serializers.ChoiceField(choices=Capability.choices), required=False, allow_null=True,
        allow_empty=True, help_text=SCOPES_HELP + " Omitted: unchanged.",
    )
    default_org = ScopedPrimaryKeyField(tenant_path="tenant", queryset=Organization.objects.all(), required=False)
    expires_at = serializers.DateTimeField(required=False)


class ApiKeyWithSecretSerializer(ApiKeySerializer):
    key = serializers.SerializerMethodField(
        help_text="The raw key, shown only in this response (null when an Idempotency-Key replay answers)."
    )

    class Meta(ApiKeySerializer.Meta):
        fields = [*ApiKeySerializer.Meta.fields, "key"]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_key(self, obj) -> str | None:
        return self.context.get("raw_key")


class ApiKeyRevokeSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


# Audit and usage

class AuditEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = AuditEvent
        fields = ["id", "created_at", "actor", "actor_user", "tenant", "action", "target", "outcome",
                  "count", "latency_ms", "request_id", "details"]
        read_only_fields = fields


class UsageCounterSerializer(serializers.ModelSerializer):
    class Meta:
        model = UsageCounter
        fields = ["id", "tenant", "metric", "day", "value"]
        read_only_fields = fields
