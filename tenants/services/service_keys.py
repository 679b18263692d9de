"""Service accounts and their platform service keys: issued, revoked and rotated by platform staff."""

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from tenants.models import PlatformServiceKey, ServiceAccount
from tenants.platform_capabilities import validate_platform_capabilities
from tenants.policy.keys import SERVICE_KEY_PREFIX_MARK, generate_raw_key, key_digest
from tenants.services.actors import Actor
from tenants.services.audit import audit_record
from tenants.services.errors import ConflictError, ServiceError


@transaction.atomic
def service_account_create(*, name: str, actor: Actor, description: str = "") -> ServiceAccount:
    name = (name or "").strip()
    try:
        ServiceAccount._meta.get_field("name").run_validators(name)
    except ValidationError as exc:
        raise ServiceError(exc.messages[0], field="name") from exc
    if not name:
        raise ServiceError("Give the service account a name.", field="name")
    if ServiceAccount.objects.filter(name=name).exists():
        raise ConflictError(f"A service account named {name!r} already exists.", field="name")
    account = ServiceAccount.objects.create(
        name=name, description=description.strip()[:300], created_by=actor.label[:150]
    )
    audit_record(
        actor=actor,
        target=f"service_account:{name}",
        details={"operation": "service_account.create"},
    )
    return account


@transaction.atomic
def service_account_update(*, account: ServiceAccount, actor: Actor, description: str) -> ServiceAccount:
    """Only the description changes: the name is the identity audit events refer to."""
    account.description = description.strip()[:300]
    account.save(update_fields=["description"])
    audit_record(
        actor=actor, target=f"service_account:{account.name}", details={"operation": "service_account.update"}
    )
    return account


@transaction.atomic
def service_key_issue(
    *,
    account: ServiceAccount,
    name: str,
    capabilities,
    actor: Actor,
    expires_at: datetime.datetime | None = None,
) -> tuple[PlatformServiceKey, str]:
    """Create a key and return it with the raw key, which is never stored and cannot be shown again."""
    if not name or not name.strip():
        raise ServiceError("Give the key a name, so you can tell it apart later.", field="name")
    try:
        capabilities = validate_platform_capabilities(capabilities)
    except ValueError as exc:
        raise ServiceError(str(exc), field="capabilities") from exc
    if expires_at is not None and expires_at <= timezone.now():
        raise ServiceError("The expiry time must be in the future.", field="expires_at")
    raw, prefix = generate_raw_key(SERVICE_KEY_PREFIX_MARK)
    key = PlatformServiceKey.objects.create(
        account=account,
        name=name.strip()[:100],
        prefix=prefix,
        digest=key_digest(raw),
        capabilities=capabilities,
        expires_at=expires_at,
        created_by=actor.label[:150],
    )
    audit_record(
        actor=actor,
        target=f"service_key:{prefix}",
        details={"operation": "service_key.issue", "account": account.name, "capabilities": capabilities},
    )
    return key, raw


@transaction.atomic
def service_key_revoke(*, service_key: PlatformServiceKey, actor: Actor, reason: str = "") -> PlatformServiceKey:
    locked = PlatformServiceKey.objects.select_for_update().select_related("account").get(pk=service_key.pk)
    if locked.revoked_at is None:
        locked.revoked_at = timezone.now()
        locked.revoked_reason = reason[:200]
        locked.save(update_fields=["revoked_at", "revoked_reason"])
        audit_record(
            actor=actor,
            target=f"service_key:{locked.prefix}",
            details={"operation": "service_key.revoke", "account": locked.account.name, "reason": reason[:200]},
        )
    service_key.revoked_at, service_key.revoked_reason = locked.revoked_at, locked.revoked_reason
    return locked


@transaction.atomic
def service_key_rotate(*, service_key: PlatformServiceKey, actor: Actor) -> tuple[PlatformServiceKey, str]:
    """Revoke a key and issue its replacement with the same account, name, capabilities and expiry."""
    if service_key.revoked_at is not None:
        raise ServiceError(f"Key {service_key.prefix} is revoked; issue a new key instead of rotating it.")
    still_valid = service_key.expires_at if service_key.expires_at and service_key.expires_at > timezone.now() else None
    new_key, raw = service_key_issue(
        account=service_key.account,
        name=service_key.name,
        capabilities=service_key.capabilities,
        expires_at=still_valid,
        actor=actor,
    )
    service_key_revoke(service_key=service_key, actor=actor, reason=f"rotated to {new_key.prefix}")
    return new_key, raw
