"""OAuth access token -> Principal, through the API key resolver (same cache, same invalidation).

A token resolves to the principal of the key anchoring its grant, narrowed to the token's scopes and named
after the client, so the pipeline, limits and audit treat it exactly like a key of that membership and scope.
"""

from dataclasses import dataclass, replace
from datetime import datetime

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from oauthserver.models import OAuthToken
from tenants.policy import Principal, ResolutionError, ResolutionFailure
from tenants.policy.keys import OAUTH_ACCESS_TOKEN_MARK, key_digest, parse_prefix
from tenants.policy.resolver import known_digest, recent_copy, remember, resolve_api_key, resolve_key_digest, resolve_known
from tenants.policy.version import known_policy_version, policy_version

_CACHE_PREFIX = "policy:oauth:"
# This process's copies of the token records it used last, checked against the policy version as the
# resolver's own copies are (a revocation moves the version).
_recent_tokens: dict[str, tuple[int, "TokenRecord"]] = recent_copy()


@dataclass(frozen=True)
class TokenRecord:
    key_prefix: str
    key_digest: str
    tenant_id: str
    membership_id: str
    client_id: str
    scopes: frozenset[str]
    resource: str
    expires_at: datetime
    revoked: bool


def is_oauth_access_token(raw: str | None) -> bool:
    return bool(raw) and raw.startswith(OAUTH_ACCESS_TOKEN_MARK)


def resolve_oauth_token(raw_token: str, *, resource: str | None = None) -> Principal:
    """Raise ResolutionError for unknown, revoked and expired tokens, tokens bound to another resource than
    `resource`, and everything resolving the grant's key refuses (membership gone, tenant suspended...)."""
    prefix, record, version = _record(raw_token)
    _check(prefix, record, resource)
    # The version the token was checked at: one read per call for the token and its key alike.
    principal = resolve_key_digest(record.key_prefix, record.key_digest, version=version)
    return _as_token(principal, record)


def resolve_known_bearer(raw: str, *, resource: str | None = None) -> tuple[Principal | ResolutionError, str] | None:
    """What resolve_bearer would give and who holds the credential, when this process knows it without any
    database or cache work (tenants.policy.resolver.resolve_known); else None."""
    if not is_oauth_access_token(raw):
        known = resolve_known(raw)
        return None if known is None else (known, known.key_prefix)
    version = known_policy_version()
    prefix = parse_prefix(raw, OAUTH_ACCESS_TOKEN_MARK)
    if version is None or prefix is None:
        return None
    snapshot = _recent_tokens.get(key_digest(raw))
    if snapshot is None or snapshot[0] != version:
        return None
    record = snapshot[1]
    holder = _holder(record)
    try:
        _check(prefix, record, resource)
    except ResolutionError as exc:
        return exc, holder
    known = known_digest(record.key_prefix, record.key_digest, version)
    if known is None or isinstance(known, ResolutionError):
        return None if known is None else (known, holder)
    return _as_token(known, record), holder


def _check(prefix: str, record: TokenRecord, resource: str | None) -> None:
    if record.revoked:
        raise ResolutionError(ResolutionFailure.REVOKED, tenant_id=record.tenant_id, key_prefix=prefix)
    if record.expires_at <= timezone.now():
        raise ResolutionError(ResolutionFailure.EXPIRED, tenant_id=record.tenant_id, key_prefix=prefix)
    if resource is not None and record.resource != resource:
        # Minted for another resource server: not ours to honour (RFC 8707).
        raise ResolutionError(ResolutionFailure.UNKNOWN)


def _as_token(principal: Principal, record: TokenRecord) -> Principal:
    return replace(principal, key_scope=record.scopes, oauth_client=record.client_id)


def _holder(record: TokenRecord) -> str:
    return f"{record.client_id} {record.membership_id}"


def resolve_bearer(raw: str, *, resource: str | None = None) -> Principal:
    """An MCP bearer credential: an OAuth access token or an API key."""
    if is_oauth_access_token(raw):
        return resolve_oauth_token(raw, resource=resource)
    return resolve_api_key(raw)


def oauth_token_holder(raw_token: str) -> str | None:
    """Who holds a known access token, stable across refreshes and re-consents: the client and the membership.
    MCP sessions are owned by it, so a refreshed or stepped-up token keeps its session."""
    try:
        _, record, _ = _record(raw_token)
    except ResolutionError:
        return None
    return _holder(record)


def _record(raw_token: str) -> tuple[str, TokenRecord, int]:
    prefix = parse_prefix(raw_token, OAUTH_ACCESS_TOKEN_MARK)
    if prefix is None:
        raise ResolutionError(ResolutionFailure.MALFORMED)
    digest = key_digest(raw_token)
    version = policy_version()
    snapshot = _recent_tokens.get(digest)
    if snapshot is None or snapshot[0] != version:
        cache_key = _CACHE_PREFIX + digest
        snapshot = cache.get(cache_key)
        if snapshot is None or snapshot[0] != version:
            snapshot = (version, _load(digest))
            cache.set(cache_key, snapshot, settings.POLICY_CACHE_TIMEOUT)
        remember(_recent_tokens, digest, snapshot)
    return prefix, snapshot[1], version


def _load(digest: str) -> TokenRecord:
    token = (
        OAuthToken.objects.select_related("grant__api_key", "grant__client", "grant__membership")
        .filter(digest=digest, kind=OAuthToken.Kind.ACCESS)
        .first()
    )
    if token is None:
        # Unknown tokens are not cached: anyone can make them up.
        raise ResolutionError(ResolutionFailure.UNKNOWN)
    grant = token.grant
    return TokenRecord(
        key_prefix=grant.api_key.prefix,
        key_digest=grant.api_key.digest,
        tenant_id=str(grant.membership.tenant_id),
        membership_id=str(grant.membership_id),
        client_id=grant.client.client_id,
        scopes=frozenset(token.scopes),
        resource=grant.resource,
        expires_at=token.expires_at,
        revoked=token.revoked_at is not None or grant.revoked_at is not None or grant.client.blocked_at is not None,
    )
