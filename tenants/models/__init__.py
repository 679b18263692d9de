from tenants.models.api_keys import ApiKey
from tenants.models.audit import AuditEvent
from tenants.models.idempotency import IdempotencyRecord
from tenants.models.organizations import Organization, OrgMembership
from tenants.models.plans import LimitOverride, Plan
from tenants.models.policy_state import PolicyState
from tenants.models.provisioning import ApplicationPlaneEvent
from tenants.models.roles import Role
from tenants.models.service_keys import PlatformServiceKey, ServiceAccount
from tenants.models.tenants import Membership, Tenant
from tenants.models.usage import UsageCounter

__all__ = [
    "ApplicationPlaneEvent",
    "IdempotencyRecord",
    "ApiKey",
    "AuditEvent",
    "LimitOverride",
    "Membership",
    "Organization",
    "OrgMembership",
    "Plan",
    "PlatformServiceKey",
    "PolicyState",
    "Role",
    "ServiceAccount",
    "Tenant",
    "UsageCounter",
]
