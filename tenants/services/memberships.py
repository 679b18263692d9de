from django.db import transaction

from tenants.models import Membership, Organization, OrgMembership, Role, Tenant
from tenants.services.actors import Actor
from tenants.services.audit import audit_record
from tenants.services.errors import ForbiddenError, ServiceError
from tenants.services.grants import ensure_may_grant_role
from tenants.services.users import user_create_for_tenant, user_is_tenant_owned
from tenants.services.validation import full_clean

STAFF_ONLY_ATTACH = (
    "Linking an existing user is a staff action. Send a username (and optionally an email) to create a new "
    "user of your tenant instead."
)


@transaction.atomic
def membership_add(*, tenant: Tenant, user, role: Role, actor: Actor) -> Membership:
    """Bind a user to a tenant. A key may add only users of its tenant's own namespace; staff may link anyone."""
    ensure_may_grant_role(actor=actor, role=role)
    if actor.capabilities is not None and not user_is_tenant_owned(user=user, tenant=tenant):
        raise ForbiddenError(STAFF_ONLY_ATTACH, field="user")
    membership = Membership(tenant=tenant, user=user, role=role)
    full_clean(membership)
    membership.save()
    audit_record(
        actor=actor,
        target=f"membership:{tenant.slug}/{user.get_username()}",
        tenant_id=tenant.id,
        details={"operation": "membership.add", "role": role.slug},
    )
    return membership


@transaction.atomic
def membership_create_user(*, tenant: Tenant, username: str, role: Role, actor: Actor, email: str = "") -> Membership:
    """Add a new user of the tenant's own namespace (`<username>@<tenant slug>`); the same answer whether that
    name or email is used in another tenant or not."""
    user = user_create_for_tenant(tenant=tenant, username=username, email=email)
    return membership_add(tenant=tenant, user=user, role=role, actor=actor)


@transaction.atomic
def membership_change_role(*, membership: Membership, role: Role, actor: Actor) -> Membership:
    ensure_may_grant_role(actor=actor, role=role)
    previous = membership.role.slug
    membership.role = role
    membership.save(update_fields=["role"])
    audit_record(
        actor=actor,
        target=f"membership:{membership.tenant.slug}/{membership.user.get_username()}",
        tenant_id=membership.tenant_id,
        details={"operation": "membership.change_role", "from": previous, "to": role.slug},
    )
    return membership


@transaction.atomic
def membership_remove(*, membership: Membership, actor: Actor) -> None:
    """Remove a member; their org memberships and API keys go with them."""
    target = f"membership:{membership.tenant.slug}/{membership.user.get_username()}"
    tenant_id = membership.tenant_id
    membership.delete()
    audit_record(actor=actor, target=target, tenant_id=tenant_id, details={"operation": "membership.remove"})


@transaction.atomic
def org_membership_add(*, organization: Organization, membership: Membership, role: Role, actor: Actor) -> OrgMembership:
    if organization.tenant_id != membership.tenant_id:
        raise ServiceError("The member and the organization belong to different tenants.", field="membership")
    ensure_may_grant_role(actor=actor, role=role)
    org_membership = OrgMembership(organization=organization, membership=membership, role=role)
    full_clean(org_membership)
    org_membership.save()
    audit_record(
        actor=actor,
        target=f"org_membership:{organization.slug}/{membership.user.get_username()}",
        tenant_id=organization.tenant_id,
        details={"operation": "org_membership.add", "role": role.slug},
    )
    return org_membership


@transaction.atomic
def org_membership_change_role(*, org_membership: OrgMembership, role: Role, actor: Actor) -> OrgMembership:
    ensure_may_grant_role(actor=actor, role=role)
    previous = org_membership.role.slug
    org_membership.role = role
    org_membership.save(update_fields=["role"])
    audit_record(
        actor=actor,
        target=f"org_membership:{org_membership.organization.slug}/{org_membership.membership.user.get_username()}",
        tenant_id=org_membership.organization.tenant_id,
        details={"operation": "org_membership.change_role", "from": previous, "to": role.slug},
    )
    return org_membership


@transaction.atomic
def org_membership_remove(*, org_membership: OrgMembership, actor: Actor) -> None:
    target = f"org_membership:{org_membership.organization.slug}/{org_membership.membership.user.get_username()}"
    tenant_id = org_membership.organization.tenant_id
    org_membership.delete()
    audit_record(actor=actor, target=target, tenant_id=tenant_id, details={"operation": "org_membership.remove"})
