"""Authorization codes and tokens. Only keyed digests are stored; raw values exist in the response alone."""

import re
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from oauthserver.models import AuthorizationCode, AuthorizationRequest, OAuthClient, OAuthGrant, OAuthToken
from oauthserver.services.clients import client_touch
from oauthserver.services.grants import grant_revoke
from tenants.policy.keys import OAUTH_ACCESS_TOKEN_MARK, OAUTH_REFRESH_TOKEN_MARK, generate_raw_key, key_digest
from tenants.policy.version import policy_version_bump
from tenants.services.actors import Actor
from tenants.services.errors import ServiceError


# What an authorization request may carry (its columns' sizes): anything longer is a bad request, not a 500.
MAX_STATE_CHARS = 2000
MAX_REDIRECT_URI_CHARS = 2000
# Rotated-away refresh tokens kept per grant for reuse detection (see _forget_old_refresh_tokens).
KEPT_USED_REFRESH_TOKENS = 20
# RFC 7636 §4.2: BASE64URL(SHA256(verifier)) without padding is exactly 43 characters.
_S256_CHALLENGE = re.compile(r"[A-Za-z0-9_-]{43}")


@dataclass(frozen=True)
class IssuedTokens:
    access_token: str
    refresh_token: str
    expires_in: int
    scopes: list[str]


def _system_actor(client: OAuthClient) -> Actor:
    return Actor(f"oauth:{client.client_id}"[:200])


def authorization_request_create(
    *,
    client: OAuthClient,
    redirect_uri: str,
    redirect_uri_explicit: bool,
    code_challenge: str,
    state: str | None,
    scopes: list[str] | None,
    resource: str,
) -> AuthorizationRequest:
    if state and len(state) > MAX_STATE_CHARS:
        raise ServiceError(f"state is longer than {MAX_STATE_CHARS} characters.", field="state")
    if not _S256_CHALLENGE.fullmatch(code_challenge or ""):
        raise ServiceError("code_challenge must be a base64url S256 digest (43 characters).", field="code_challenge")
    if len(redirect_uri) > MAX_REDIRECT_URI_CHARS:
        raise ServiceError("redirect_uri is too long.", field="redirect_uri")
    # Answered or abandoned requests are of no use once expired; clearing them here keeps the table small.
    AuthorizationRequest.objects.filter(expires_at__lt=timezone.now() - timedelta(hours=1)).delete()
    return AuthorizationRequest.objects.create(
        client=client,
        redirect_uri=redirect_uri,
        redirect_uri_explicit=redirect_uri_explicit,
        code_challenge=code_challenge,
        state=state or "",
        scopes=sorted(set(scopes)) if scopes is not None else None,
        resource=resource,
        expires_at=timezone.now() + timedelta(seconds=settings.OAUTH_CONSENT_SECONDS),
    )


@transaction.atomic
def code_load(*, client: OAuthClient, raw_code: str) -> AuthorizationCode | None:
    """The unused, unexpired code of this client. A code presented twice revokes the grant it produced
    (RFC 6749 §4.1.2: it was probably stolen)."""
    code = (
        AuthorizationCode.objects.select_for_update()
        .select_related("grant__client", "grant__membership")
        .filter(digest=key_digest(raw_code), grant__client=client)
        .first()
    )
    if code is None or code.grant.revoked_at is not None:
        return None
    if code.used_at is not None:
        grant_revoke(grant=code.grant, actor=_system_actor(client), reason="authorization code reused")
        return None
    return code


@transaction.atomic
def code_exchange(*, code_digest: str) -> IssuedTokens:
    """Use the code (once) and issue the grant's first token pair; ValueError if it was used meanwhile."""
    updated = AuthorizationCode.objects.filter(pk=code_digest, used_at__isnull=True).update(used_at=timezone.now())
    if not updated:
        raise ValueError("authorization code already used")
    return _issue(AuthorizationCode.objects.select_related("grant").get(pk=code_digest).grant)


@transaction.atomic
def refresh_token_load(*, client: OAuthClient, raw_token: str) -> OAuthToken | None:
    """The live refresh token of this client. A rotated-away refresh token presented again revokes the whole
    grant: either the client or an attacker holds a copy, and the server cannot tell which."""
    token = (
        OAuthToken.objects.select_for_update()
        .select_related("grant__client")
        .filter(digest=key_digest(raw_token), kind=OAuthToken.Kind.REFRESH, grant__client=client)
        .first()
    )
    if token is None or token.revoked_at is not None or token.grant.revoked_at is not None:
        return None
    if token.used_at is not None:
        grant_revoke(grant=token.grant, actor=_system_actor(client), reason="refresh token reused")
        return None
    if token.expires_at <= timezone.now():
        return None
    return token


@transaction.atomic
def refresh_token_rotate(*, token_pk: int, scopes: list[str]) -> IssuedTokens:
    """Use the refresh token once and issue a new pair; the new pair may narrow the scope, never widen it.
    ValueError if it was used meanwhile."""
    updated = OAuthToken.objects.filter(pk=token_pk, used_at__isnull=True, revoked_at__isnull=True).update(
        used_at=timezone.now()
    )
    if not updated:
        raise ValueError("refresh token already used")
    token = OAuthToken.objects.select_related("grant").get(pk=token_pk)
    allowed = set(token.scopes)
    return _issue(token.grant, scopes=[scope for scope in scopes if scope in allowed])


@transaction.atomic
def token_revoke(*, token_pk: int) -> None:
    """RFC 7009. Revoking a refresh token ends the grant (the client signs out); revoking an access token ends
    that token. Either way the next call is refused in every server process."""
    token = OAuthToken.objects.select_related("grant__client").get(pk=token_pk)
    if token.kind == OAuthToken.Kind.REFRESH:
        grant_revoke(grant=token.grant, actor=_system_actor(token.grant.client), reason="revoked by the client")
        return
    OAuthToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    # Resolved tokens are cached per policy version; moving it makes the revocation apply to the next call.
    transaction.on_commit(policy_version_bump)


def access_token_find(*, raw_token: str) -> OAuthToken | None:
    return (
        OAuthToken.objects.select_related("grant__client")
        .filter(digest=key_digest(raw_token), kind=OAuthToken.Kind.ACCESS)
        .first()
    )


def _issue(grant: OAuthGrant, *, scopes: list[str] | None = None) -> IssuedTokens:
    now = timezone.now()
    # Each refresh adds a pair; the grant's expired tokens are of no use to anyone (not even reuse detection).
    OAuthToken.objects.filter(grant=grant, expires_at__lt=now).delete()
    scopes = sorted(scopes if scopes is not None else grant.scopes)
    access, access_prefix = generate_raw_key(OAUTH_ACCESS_TOKEN_MARK)
    refresh, refresh_prefix = generate_raw_key(OAUTH_REFRESH_TOKEN_MARK)
    OAuthToken.objects.bulk_create(
        [
            OAuthToken(
                digest=key_digest(access),
                prefix=access_prefix,
                kind=OAuthToken.Kind.ACCESS,
                grant=grant,
                scopes=scopes,
                expires_at=now + timedelta(seconds=settings.OAUTH_ACCESS_TOKEN_SECONDS),
            ),
            OAuthToken(
                digest=key_digest(refresh),
                prefix=refresh_prefix,
                kind=OAuthToken.Kind.REFRESH,
                grant=grant,
                scopes=scopes,
                expires_at=now + timedelta(seconds=settings.OAUTH_REFRESH_TOKEN_SECONDS),
            ),
        ]
    )
    _forget_old_refresh_tokens(grant)
    client_touch(grant.client_id)
    return IssuedTokens(access, refresh, settings.OAUTH_ACCESS_TOKEN_SECONDS, scopes)


def _forget_old_refresh_tokens(grant: OAuthGrant) -> None:
    """Used refresh tokens are kept to catch their reuse, but only the grant's last few: a client refreshing in a
    loop would otherwise store a row per refresh for the refresh lifetime (30 days) in a table every tenant shares.
    An older one presented again is simply unknown (refused, without revoking the grant)."""
    used = (
        OAuthToken.objects.filter(grant=grant, kind=OAuthToken.Kind.REFRESH, used_at__isnull=False)
        .order_by("-id")
        .values_list("id", flat=True)[KEPT_USED_REFRESH_TOKENS:]
    )
    OAuthToken.objects.filter(id__in=list(used)).delete()
