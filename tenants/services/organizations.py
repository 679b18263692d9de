from django.db import transaction

from tenants.models import Organization, Tenant
from tenants.services.actors import Actor
from tenants.services.audit import audit_record
from tenants.services.validation import full_clean


@transaction.atomic
def organization_create(*, tenant: Tenant, slug: str, name: str, actor: Actor) -> Organization:
    org = Organization(tenant=tenant, slug=slug, name=name)
    full_clean(org)
    org.save()
    audit_record(actor=actor, target=f"org:{tenant.slug}/{slug}", tenant_id=tenant.id, details={"operation": "org.create"})
    return org


@transaction.atomic
def organization_update(*, organization: Organization, actor: Actor, name: str) -> Organization:
    organization.name = name
    full_clean(organization)
    organization.save(update_fields=["name"])
    audit_record(
        actor=actor,
        target=f"org:{organization.tenant.slug}/{organization.slug}",
        tenant_id=organization.tenant_id,
        details={"operation": "org.update"},
    )
    return organization


@transaction.atomic
def organization_delete(*, organization: Organization, actor: Actor) -> None:
    target = f"org:{organization.tenant.slug}/{organization.slug}"
    tenant_id = organization.tenant_id
    organization.delete()
    audit_record(actor=actor, target=target, tenant_id=tenant_id, details={"operation": "org.delete"})
