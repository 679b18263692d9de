"""Consent and grants: what a person allowed a client to do, in which tenant and context."""

import secrets
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from oauthserver.models import AuthorizationCode, AuthorizationRequest, OAuthGrant
from oauthserver.selectors import ConsentChoice
from tenants.models import ApiKey
from tenants.policy.keys import generate_raw_key, key_digest
from tenants.services.actors import Actor
from tenants.services.api_keys import api_key_revoke
from tenants.services.audit import audit_record
from tenants.services.errors import ServiceError


@transaction.atomic
def grant_approve(*, request: AuthorizationRequest, user, choice: ConsentChoice) -> str:
    """The person allowed the client in `choice`'s tenant and context: record the grant (the intersection of the
    requested and the role's capabilities) and return a one-time authorization code for it."""
    locked = AuthorizationRequest.objects.select_for_update().get(pk=request.pk)
    _check_open(locked)
    if choice.membership.user_id != user.pk:
        raise ServiceError("Choose one of your own tenants.", field="choice")
    if not choice.granted:
        raise ServiceError(
            "Your role in this context grants none of the capabilities the client asked for; choose another.",
            field="choice",
        )
    locked.answered_at = timezone.now()
    locked.save(update_fields=["answered_at"])
    actor = Actor.for_user(user)
    # Nobody ever holds this key's raw value: it only anchors the grant in the policy resolver.
    _, prefix = generate_raw_key()
    anchor = ApiKey.objects.create(
        membership=choice.membership,
        name=f"OAuth: {locked.client}"[:100],
        prefix=prefix,
        digest=key_digest(secrets.token_urlsafe(32)),
        scopes=sorted(choice.granted),
        default_org=choice.organization,
        created_by=actor.label[:150],
    )
    grant = OAuthGrant.objects.create(
        client=locked.client,
        membership=choice.membership,
        organization=choice.organization,
        api_key=anchor,
        scopes=sorted(choice.granted),
        resource=locked.resource,
    )
    audit_record(
        actor=actor,
        target=f"oauth_grant:{grant.pk}",
        tenant_id=choice.membership.tenant_id,
        details={
            "operation": "oauth_grant.approve",
            "client": locked.client.client_id,
            "context": choice.context_label,
            "scopes": grant.scopes,
        },
    )
    raw_code = secrets.token_urlsafe(32)
    AuthorizationCode.objects.create(
        digest=key_digest(raw_code),
        grant=grant,
        redirect_uri=locked.redirect_uri,
        redirect_uri_explicit=locked.redirect_uri_explicit,
        code_challenge=locked.code_challenge,
        expires_at=timezone.now() + timedelta(seconds=settings.OAUTH_AUTHORIZATION_CODE_SECONDS),
    )
    return raw_code


@transaction.atomic
def grant_deny(*, request: AuthorizationRequest, user) -> None:
    locked = AuthorizationRequest.objects.select_for_update().get(pk=request.pk)
    _check_open(locked)
    locked.answered_at = timezone.now()
    locked.save(update_fields=["answered_at"])
    audit_record(
        actor=Actor.for_user(user),
        target=f"oauth_client:{locked.client.client_id}",
        details={"operation": "oauth_grant.deny"},
    )


@transaction.atomic
def grant_revoke(*, grant: OAuthGrant, actor: Actor, reason: str = "") -> OAuthGrant:
    """End the grant: its tokens stop working on the next call in every server process (the anchor key is
    revoked, which moves the policy version) and connected sessions see their tools change."""
    locked = OAuthGrant.objects.select_for_update().get(pk=grant.pk)
    if locked.revoked_at is None:
        locked.revoked_at = timezone.now()
        locked.revoked_reason = reason[:200]
        locked.save(update_fields=["revoked_at", "revoked_reason"])
        locked.tokens.filter(revoked_at__isnull=True).update(revoked_at=locked.revoked_at)
        api_key_revoke(api_key=locked.api_key, actor=actor, reason=f"OAuth grant revoked: {reason}"[:200])
        audit_record(
            actor=actor,
            target=f"oauth_grant:{locked.pk}",
            tenant_id=locked.membership.tenant_id,
            details={"operation": "oauth_grant.revoke", "client": locked.client.client_id, "reason": reason[:200]},
        )
    grant.revoked_at, grant.revoked_reason = locked.revoked_at, locked.revoked_reason
    return locked


def _check_open(request: AuthorizationRequest) -> None:
    if request.answered_at is not None:
        raise ServiceError("This authorization request was already answered; start again from your client.")
    if request.expires_at <= timezone.now():
        raise ServiceError("This authorization request has expired; start again from your client.")
