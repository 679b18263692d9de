"""Raw API key -> Principal. Cached per key digest; the cache entry is valid while the policy version holds.

The cache is only a shortcut: when it is unreachable (Redis down), keys are resolved from the database, which
holds the truth, and the outage is logged once.
"""

import logging
import math
import threading
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db.models import Q
from django.utils import timezone

from controlplane.outages import STORE_ERRORS, cache_outage
from tenants.limits import LIMIT_NAMES
from tenants.models import ApiKey, LimitOverride, OrgMembership
from tenants.models.tenants import TenantStatus
from tenants.policy.errors import ResolutionError, ResolutionFailure
from tenants.policy.keys import digests_match, is_service_key, key_digest, parse_prefix
from tenants.policy.metrics import POLICY_CACHE_HIT, POLICY_CACHE_MISS
from tenants.policy.principal import Context, OrgGrant, Principal
from tenants.policy.version import known_policy_version, policy_version

logger = logging.getLogger(__name__)

_CACHE_PREFIX = "policy:principal:"
_TENANT_STATUS_FAILURES = {
    TenantStatus.SUSPENDED: ResolutionFailure.TENANT_SUSPENDED,
    TenantStatus.OFFBOARDING: ResolutionFailure.TENANT_OFFBOARDING,
    TenantStatus.OFFBOARDED: ResolutionFailure.TENANT_OFFBOARDED,
}
_last_used_written: dict[str, float] = {}
_last_used_lock = threading.Lock()
# This process's own copy of the snapshots it used last, in front of the shared cache: checked against the same
# policy version read, so it saves the shared cache's round trip and unpickling on every call, never the check.
# Immutable snapshots only; unknown keys never get here, so callers cannot fill it (and it is cleared when full).
_recent: dict[str, tuple[int, "Principal | Rejection"]] = {}
_RECENT_MAX = 10_000
# Every such per-process copy (the OAuth token records have one too), so forget_recent() drops them all.
_copies: list[dict] = [_recent]


def recent_copy() -> dict:
    """A new per-process copy of cache entries, dropped with the others by forget_recent()."""
    copy: dict = {}
    _copies.append(copy)
    return copy


def remember(copy: dict, digest: str, snapshot: tuple) -> None:
    if len(copy) >= _RECENT_MAX:
        copy.clear()
    copy[digest] = snapshot


def resolve_api_key(raw_key: str, *, org: str | None = None) -> Principal:
    """Resolve a raw key to a principal in the key's default context, or in `org` when given.

    Raises ResolutionError for unknown, revoked or expired keys, inactive users and tenants that
    are not active; ContextNotAllowed when `org` is not one of the caller's organizations.
    """
    prefix = parse_prefix(raw_key)
    if prefix is None:
        if is_service_key(raw_key):
            raise ResolutionError(ResolutionFailure.SERVICE_KEY)
        raise ResolutionError(ResolutionFailure.MALFORMED)
    return resolve_key_digest(prefix, key_digest(raw_key), org=org)


def resolve_key_digest(prefix: str, digest: str, *, org: str | None = None, version: int | None = None) -> Principal:
    """The principal of the API key with this prefix and digest: the one cached path every credential takes
    (an OAuth grant resolves through the key that anchors it). `version`: the policy version the caller read
    just before, in this same resolution (else it is read here)."""
    # Read the version before any data so that a concurrent change can only make the entry stale, never wrong.
    if version is None:
        version = policy_version()
    snapshot = _recent.get(digest)
    if snapshot is None or snapshot[0] != version:
        snapshot = _shared_snapshot(prefix, digest, version)
        remember(_recent, digest, snapshot)
    else:
        POLICY_CACHE_HIT.inc()
    principal = _usable(snapshot[1], prefix, digest)
    _touch_last_used(principal.api_key_id)
    return principal.in_context(org) if org else principal


def resolve_known(raw_key: str) -> Principal | ResolutionError | None:
    """What resolving a raw API key would give, when that is known without any database or cache work (this
    process resolved the key at the current policy version, and the version is known from the shared file);
    None when only resolve_api_key can tell. For the event loop, where a database read would need a thread."""
    version = known_policy_version()
    if version is None:
        return None
    prefix = parse_prefix(raw_key)
    if prefix is None:
        return None
    return known_digest(prefix, key_digest(raw_key), version)


def known_digest(prefix: str, digest: str, version: int) -> Principal | ResolutionError | None:
    """resolve_known for a key given by its prefix and digest, at a `version` known to be current."""
    snapshot = _recent.get(digest)
    if snapshot is None or snapshot[0] != version:
        return None
    try:
        principal = _usable(snapshot[1], prefix, digest)
    except ResolutionError as exc:
        return exc
    if _last_used_due(principal.api_key_id):
        return None  # the resolution that writes it runs where database work may
    POLICY_CACHE_HIT.inc()
    return principal


def _usable(outcome: "Principal | Rejection", prefix: str, digest: str) -> Principal:
    """The cached principal, when the key may act now (it is checked on every use, not only when cached)."""
    if isinstance(outcome, Rejection):
        raise ResolutionError(outcome.reason, tenant_id=outcome.tenant_id, key_prefix=prefix)
    if not digests_match(outcome.key_digest, digest):
        raise ResolutionError(ResolutionFailure.UNKNOWN)
    if outcome.key_expires_at is not None and outcome.key_expires_at <= timezone.now():
        raise ResolutionError(ResolutionFailure.EXPIRED, tenant_id=outcome.tenant_id, key_prefix=prefix)
    return outcome


def _shared_snapshot(prefix: str, digest: str, version: int) -> tuple[int, "Principal | Rejection"]:
    cache_key = _CACHE_PREFIX + digest
    snapshot = _cache_get(cache_key)
    if snapshot is None or snapshot[0] != version:
        POLICY_CACHE_MISS.inc()
        snapshot = (version, _build(prefix, digest, version))
        _cache_set(cache_key, snapshot)
    else:
        POLICY_CACHE_HIT.inc()
    return snapshot


def forget_recent() -> None:
    """Drop this process's copies (the shared cache is cleared apart, with cache.clear())."""
    for copy in _copies:
        copy.clear()


def _cache_get(cache_key: str):
    started = time.monotonic()
    try:
        snapshot = cache.get(cache_key)
    except STORE_ERRORS as exc:
        cache_outage().failed(exc)
        return None
    cache_outage().succeeded(started)
    return snapshot


def _cache_set(cache_key: str, snapshot) -> None:
    try:
        cache.set(cache_key, snapshot, settings.POLICY_CACHE_TIMEOUT)
    except STORE_ERRORS as exc:
        cache_outage().failed(exc)


@dataclass(frozen=True)
class Rejection:
    """A cacheable refusal (revoked key, suspended tenant...): known keys are few, so caching them is safe."""

    reason: str
    tenant_id: str


def _build(prefix: str, digest: str, version: int) -> Principal | Rejection:
    # prefix is unique; order_by() drops the models' default orderings, whose joins cost more than the query.
    candidates = (
        ApiKey.objects.select_related(
            "membership__tenant__plan", "membership__user", "membership__role", "default_org"
        )
        .filter(prefix=prefix)
        .order_by()
    )
    key = next(iter(candidates), None)
    if key is None or not digests_match(key.digest, digest):
        # Unknown keys are not cached: anyone can make up keys, and the cache must not fill with them.
        raise ResolutionError(ResolutionFailure.UNKNOWN)
    refusal = refusal_of(key.membership, key)
    if refusal is not None:
        return Rejection(refusal, str(key.membership.tenant_id))
    return principal_of(key.membership, key, version=version)


def refusal_of(membership, key: ApiKey | None = None) -> ResolutionFailure | None:
    """Why a key of `membership` (or `key` itself) cannot act at all, whatever it asks; None when it can.
    Expiry is not here: it is checked on every call, after the cache."""
    if key is not None and key.revoked_at is not None:
        return ResolutionFailure.REVOKED
    if not membership.user.is_active:
        return ResolutionFailure.USER_INACTIVE
    return _TENANT_STATUS_FAILURES.get(membership.tenant.status)


def principal_of(membership, key: ApiKey | None = None, *, version: int | None = None) -> Principal:
    """The principal of `key` in its default context, or of a key of `membership` with no scope restriction in
    the personal context. Built whatever the key's or tenant's state (refusal_of says whether it may act), so an explanation can
    show the role and scope a refused caller would have."""
    tenant = membership.tenant
    limits = tenant.plan.limits()
    limits.update(LimitOverride.objects.filter(tenant=tenant).order_by().values_list("limit", "value"))
    grants = tuple(
        OrgGrant(
            org_id=str(om.organization_id),
            org_slug=om.organization.slug,
            org_name=om.organization.name,
            role=om.role.slug,
            role_capabilities=frozenset(om.role.capabilities),
        )
        for om in OrgMembership.objects.filter(membership=membership).select_related("organization", "role").order_by()
    )
    principal = Principal(
        tenant_id=str(tenant.id),
        tenant_slug=tenant.slug,
        tenant_name=tenant.name,
        tenant_status=tenant.status,
        plan_slug=tenant.plan.slug,
        user_id=membership.user_id,
        username=membership.user.get_username(),
        membership_id=str(membership.id),
        api_key_id=str(key.id) if key is not None else "",
        key_prefix=key.prefix if key is not None else "",
        key_digest=key.digest if key is not None else "",
        key_expires_at=key.expires_at if key is not None else None,
        role=membership.role.slug,
        role_capabilities=frozenset(membership.role.capabilities),
        key_scope=None if key is None or key.scopes is None else frozenset(key.scopes),
        org_grants=grants,
        limits={name: limits[name] for name in LIMIT_NAMES},
        policy_version=policy_version() if version is None else version,
        context=Context.personal(),
    )
    if key is not None and key.default_org_id and principal.find_org(str(key.default_org_id)):
        principal = principal.in_context(str(key.default_org_id))
    return principal


def _last_used_due(api_key_id: str) -> bool:
    return time.monotonic() - _last_used_written.get(api_key_id, -math.inf) >= settings.API_KEY_LAST_USED_RESOLUTION


def _touch_last_used(api_key_id: str) -> None:
    """Write last_used_at at most once per API_KEY_LAST_USED_RESOLUTION seconds per key and process."""
    now = time.monotonic()
    resolution = settings.API_KEY_LAST_USED_RESOLUTION
    with _last_used_lock:
        if now - _last_used_written.get(api_key_id, -math.inf) < resolution:
            return
        _last_used_written[api_key_id] = now
    stamp = timezone.now()
    cutoff = stamp - timezone.timedelta(seconds=resolution)
    # queryset.update sends no post_save, so this does not move the policy version.
    ApiKey.objects.filter(pk=api_key_id).filter(Q(last_used_at__isnull=True) | Q(last_used_at__lt=cutoff)).update(
        last_used_at=stamp
    )
