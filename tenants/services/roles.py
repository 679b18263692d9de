from django.db import transaction

from tenants.capabilities import validate_capabilities
from tenants.models import Role
from tenants.services.actors import Actor
from tenants.services.audit import audit_record
from tenants.services.errors import ConflictError, ServiceError
from tenants.services.validation import full_clean


def _capabilities(values) -> list[str]:
    try:
        return validate_capabilities(values)
    except ValueError as exc:
        raise ServiceError(str(exc), field="capabilities") from exc


@transaction.atomic
def role_create(*, slug: str, name: str, capabilities, actor: Actor, description: str = "") -> Role:
    role = Role(slug=slug, name=name, description=description, capabilities=_capabilities(capabilities))
    full_clean(role)
    role.save()
    audit_record(
        actor=actor, target=f"role:{slug}", details={"operation": "role.create", "capabilities": role.capabilities}
    )
    return role


@transaction.atomic
def role_update(
    *, role: Role, actor: Actor, name: str | None = None, description: str | None = None, capabilities=None
) -> Role:
    before = list(role.capabilities)
    if name is not None:
        role.name = name
    if description is not None:
        role.description = description
    if capabilities is not None:
        role.capabilities = _capabilities(capabilities)
    full_clean(role)
    role.save()
    audit_record(
        actor=actor,
        target=f"role:{role.slug}",
        details={"operation": "role.update", "from": before, "to": role.capabilities},
    )
    return role


@transaction.atomic
def role_delete(*, role: Role, actor: Actor) -> None:
    if role.is_builtin:
        raise ConflictError(f"Role {role.slug!r} is built in and cannot be deleted.")
    if role.memberships.exists() or role.org_memberships.exists():
        raise ConflictError(f"Role {role.slug!r} is still assigned; change those members' roles first.")
    slug = role.slug
    role.delete()
    audit_record(actor=actor, target=f"role:{slug}", details={"operation": "role.delete"})
