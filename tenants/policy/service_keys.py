"""Raw platform service key -> ServicePrincipal. Looked up on every request (service keys are few and a
revocation must apply to the next call); the digest is compared in constant time."""

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.utils import timezone

from tenants.models import PlatformServiceKey
from tenants.policy.errors import ResolutionError, ResolutionFailure
from tenants.policy.keys import SERVICE_KEY_PREFIX_MARK, digests_match, key_digest, parse_prefix


@dataclass(frozen=True)
class ServicePrincipal:
    """A service account acting through one of its keys, with that key's platform capabilities."""

    account_id: str
    account_name: str
    key_id: str
    key_prefix: str
    capabilities: frozenset[str]
    key_expires_at: datetime | None

    @property
    def actor_label(self) -> str:
        return f"service:{self.account_name}"

    def can(self, capability: str) -> bool:
        return capability in self.capabilities


def resolve_service_key(raw_key: str) -> ServicePrincipal:
    """Raises ResolutionError for malformed, unknown, revoked and expired keys."""
    prefix = parse_prefix(raw_key, SERVICE_KEY_PREFIX_MARK)
    if prefix is None:
        raise ResolutionError(ResolutionFailure.MALFORMED)
    digest = key_digest(raw_key)
    key = PlatformServiceKey.objects.select_related("account").filter(prefix=prefix).order_by().first()
    if key is None or not digests_match(key.digest, digest):
        raise ResolutionError(ResolutionFailure.UNKNOWN)
    now = timezone.now()
    if key.revoked_at is not None:
        raise ResolutionError(ResolutionFailure.REVOKED, key_prefix=prefix)
    if key.expires_at is not None and key.expires_at <= now:
        raise ResolutionError(ResolutionFailure.EXPIRED, key_prefix=prefix)
    _touch_last_used(key, now)
    return ServicePrincipal(
        account_id=str(key.account_id),
        account_name=key.account.name,
        key_id=str(key.id),
        key_prefix=key.prefix,
        capabilities=frozenset(key.capabilities),
        key_expires_at=key.expires_at,
    )


def _touch_last_used(key: PlatformServiceKey, now: datetime) -> None:
    """At most one write per API_KEY_LAST_USED_RESOLUTION seconds per key, judged from the row just read."""
    cutoff = now - timezone.timedelta(seconds=settings.API_KEY_LAST_USED_RESOLUTION)
    if key.last_used_at is None or key.last_used_at < cutoff:
        PlatformServiceKey.objects.filter(pk=key.pk).update(last_used_at=now)
