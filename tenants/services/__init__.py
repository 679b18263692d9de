"""Every write of the tenancy domain. Adapters (admin, APIs, MCP, commands) call these, never the ORM."""

from tenants.services.actors import Actor
from tenants.services.api_keys import api_key_issue, api_key_revoke, api_key_rotate, api_key_update
from tenants.services.audit import audit_capture, audit_record, audit_record_many
from tenants.services.errors import ForbiddenError, ServiceError
from tenants.services.memberships import (
    membership_add,
    membership_change_role,
    membership_create_user,
    membership_remove,
    org_membership_add,
    org_membership_change_role,
    org_membership_remove,
)
from tenants.services.organizations import organization_create, organization_delete, organization_update
from tenants.services.refusals import AuthRefusal, RefusalDoor, audit_login_refusal, audit_refusal, audit_refusals
from tenants.services.provisioning import application_plane_result_apply
from tenants.services.plans import plan_create, plan_update, tenant_limit_clear, tenant_limit_set
from tenants.services.roles import role_create, role_delete, role_update
from tenants.services.service_keys import (
    service_account_create,
    service_account_update,
    service_key_issue,
    service_key_revoke,
    service_key_rotate,
)
from tenants.services.tenants import (
    tenant_change_plan,
    tenant_create,
    tenant_mark_offboarded,
    tenant_offboard,
    tenant_resume,
    tenant_suspend,
    tenant_update,
)
from tenants.services.usage import usage_increment, usage_record_level
from tenants.services.users import user_create_for_tenant, user_ensure

__all__ = [
    "Actor",
    "AuthRefusal",
    "RefusalDoor",
    "ForbiddenError",
    "ServiceError",
    "api_key_issue",
    "application_plane_result_apply",
    "api_key_revoke",
    "api_key_rotate",
    "api_key_update",
    "audit_capture",
    "audit_record",
    "audit_record_many",
    "audit_login_refusal",
    "audit_refusal",
    "audit_refusals",
    "membership_add",
    "membership_change_role",
    "membership_create_user",
    "membership_remove",
    "org_membership_add",
    "org_membership_change_role",
    "org_membership_remove",
    "organization_create",
    "organization_delete",
    "organization_update",
    "plan_create",
    "plan_update",
    "role_create",
    "role_delete",
    "role_update",
    "service_account_create",
    "service_account_update",
    "service_key_issue",
    "service_key_revoke",
    "service_key_rotate",
    "tenant_change_plan",
    "tenant_create",
    "tenant_limit_clear",
    "tenant_limit_set",
    "tenant_mark_offboarded",
    "tenant_offboard",
    "tenant_resume",
    "tenant_suspend",
    "tenant_update",
    "usage_increment",
    "user_create_for_tenant",
    "usage_record_level",
    "user_ensure",
]
