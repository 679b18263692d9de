from django.db import transaction

from tenants.models import Membership, Organization, OrgMembership, Role, Tenant
from tenants.services.actors import Actor
from tenants.services.audit import audit_record
from tenants.services.errors import ServiceError
from tenants.services.grants import ensure_may_grant_role
from tenants.services.validation import full_clean


@transaction.atomic
def membership_add(*, tenant: Tenant, user, role: Role, actor: Actor) -> Membership:
    ensure_may_grant_role(actor=actor, role=role)
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
