import datetime

from django.db import transaction
from django.utils import timezone

from tenants.capabilities import validate_capabilities
from tenants.models import ApiKey, Membership, Organization
from tenants.policy.keys import generate_raw_key, key_digest
from tenants.services.actors import Actor
from tenants.services.audit import audit_record
from tenants.services.errors import ServiceError
from tenants.services.grants import ensure_may_grant_scope


class _Unchanged:
    def __repr__(self):
        return "UNCHANGED"


# api_key_update's default for scopes: None is a value there ("the role's capabilities"), not "leave as is".
UNCHANGED = _Unchanged()


def _clean_scopes(scopes) -> list[str] | None:
    """None stays None (the role's capabilities); a list becomes sorted known capabilities, [] meaning none."""
    if scopes is None:
        return None
    if isinstance(scopes, (str, bytes, dict)):
        raise ServiceError(
            "Give scopes as a list of capabilities ([] for none), or null for the role's capabilities.",
            field="scopes",
        )
    try:
        return validate_capabilities(scopes)
    except (TypeError, ValueError) as exc:
        raise ServiceError(str(exc), field="scopes") from exc


def _check(membership: Membership, default_org: Organization | None, expires_at) -> None:
    if default_org is not None and default_org.tenant_id != membership.tenant_id:
        raise ServiceError("The default organization must belong to the key's tenant.", field="default_org")
    if expires_at is not None and expires_at <= timezone.now():
        raise ServiceError("The expiry time must be in the future.", field="expires_at")


@transaction.atomic
def api_key_issue(
    *,
    membership: Membership,
    name: str,
    actor: Actor,
    scopes: list[str] | None = None,
    default_org: Organization | None = None,
    expires_at: datetime.datetime | None = None,
) -> tuple[ApiKey, str]:
    """Create a key and return it with the raw key, which is never stored and cannot be shown again.

    scopes None: the member's role's capabilities, whatever they are now or later; a list: only those
    capabilities (within the role); []: none.
    """
    if not name or not name.strip():
        raise ServiceError("Give the key a name, so you can tell it apart later.", field="name")
    scopes = _clean_scopes(scopes)
    ensure_may_grant_scope(actor=actor, scopes=scopes)
    _check(membership, default_org, expires_at)
    raw, prefix = generate_raw_key()
    key = ApiKey.objects.create(
        membership=membership,
        name=name.strip()[:100],
        prefix=prefix,
        digest=key_digest(raw),
        scopes=scopes,
        default_org=default_org,
        expires_at=expires_at,
        created_by=actor.label[:150],
    )
    audit_record(
        actor=actor,
        target=f"api_key:{prefix}",
        tenant_id=membership.tenant_id,
        details={"operation": "api_key.issue", "scopes": scopes, "user": membership.user.get_username()},
    )
    return key, raw


@transaction.atomic
def api_key_update(
    *,
    api_key: ApiKey,
    actor: Actor,
    name: str | None = None,
    scopes: list[str] | None | _Unchanged = UNCHANGED,
    default_org=None,
    expires_at=None,
) -> ApiKey:
    """Change a key. scopes: UNCHANGED (default) keeps them; None: the role's capabilities; []: none."""
    if name is not None:
        api_key.name = name.strip()[:100]
    if scopes is not UNCHANGED:
        scopes = _clean_scopes(scopes)
        ensure_may_grant_scope(actor=actor, scopes=scopes, verb="make")
        api_key.scopes = scopes
    if default_org is not None:
        _check(api_key.membership, default_org, None)
        api_key.default_org = default_org
    if expires_at is not None:
        api_key.expires_at = expires_at
    api_key.save()
    audit_record(
        actor=actor,
        target=f"api_key:{api_key.prefix}",
        tenant_id=api_key.membership.tenant_id,
        details={"operation": "api_key.update", "scopes": api_key.scopes},
    )
    return api_key


@transaction.atomic
def api_key_revoke(*, api_key: ApiKey, actor: Actor, reason: str = "") -> ApiKey:
    locked = ApiKey.objects.select_for_update().get(pk=api_key.pk)
    if locked.revoked_at is None:
        locked.revoked_at = timezone.now()
        locked.revoked_reason = reason[:200]
        locked.save(update_fields=["revoked_at", "revoked_reason"])
        audit_record(
            actor=actor,
            target=f"api_key:{locked.prefix}",
            tenant_id=locked.membership.tenant_id,
            details={"operation": "api_key.revoke", "reason": reason[:200]},
        )
    api_key.revoked_at, api_key.revoked_reason = locked.revoked_at, locked.revoked_reason
    return locked


@transaction.atomic
def api_key_rotate(*, api_key: ApiKey, actor: Actor) -> tuple[ApiKey, str]:
    """Revoke a key and issue its replacement with the same name, scope, org and expiry."""
    if api_key.revoked_at is not None:
        raise ServiceError(f"Key {api_key.prefix} is revoked; issue a new key instead of rotating it.")
    # The caller gets the replacement's raw key, so it must be allowed to issue that key itself.
    ensure_may_grant_scope(actor=actor, scopes=api_key.scopes, verb="rotate")
    new_key, raw = api_key_issue(
        membership=api_key.membership,
        name=api_key.name,
        actor=actor,
        scopes=api_key.scopes,
        default_org=api_key.default_org,
        expires_at=api_key.expires_at if api_key.expires_at and api_key.expires_at > timezone.now() else None,
    )
    api_key_revoke(api_key=api_key, actor=actor, reason=f"rotated to {new_key.prefix}")
    return new_key, raw
