"""OAuth clients: dynamic registrations, staff registrations, blocking."""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from oauthserver.models import OAuthClient
from oauthserver.services.grants import grant_revoke
from tenants.services.actors import Actor
from tenants.services.audit import audit_record
from tenants.services.errors import ServiceError

MAX_REDIRECT_URIS = 10


def clean_redirect_uris(redirect_uris) -> list[str]:
    uris = [str(uri) for uri in redirect_uris or []]
    if not uris:
        raise ServiceError("Give at least one redirect URI.", field="redirect_uris")
    if len(uris) > MAX_REDIRECT_URIS:
        raise ServiceError(f"At most {MAX_REDIRECT_URIS} redirect URIs.", field="redirect_uris")
    for uri in uris:
        if len(uri) > 2000 or "#" in uri or not uri.split(":", 1)[0].isalpha():
            raise ServiceError(
                f"{uri[:100]!r} is not a usable redirect URI (absolute, no fragment).", field="redirect_uris"
            )
    return uris


@transaction.atomic
def client_register_dynamic(
    *, client_id: str, name: str, redirect_uris, metadata: dict, address: str | None
) -> OAuthClient:
    """RFC 7591 registration. Registrations that never lead to a grant expire (see clients_expire_unused)."""
    clients_expire_unused()
    client = OAuthClient.objects.create(
        client_id=client_id,
        kind=OAuthClient.Kind.DYNAMIC,
        name=name[:200],
        redirect_uris=clean_redirect_uris(redirect_uris),
        metadata=metadata,
        registered_from=address,
        created_by="dynamic-registration",
    )
    audit_record(
        actor=Actor(f"oauth-registration:{address or 'unknown'}"),
        target=f"oauth_client:{client.client_id}",
        details={"operation": "oauth_client.register", "kind": client.kind, "name": client.name},
    )
    return client


@transaction.atomic
def client_register(*, client_id: str, name: str, redirect_uris, actor: Actor) -> OAuthClient:
    """A client registered by staff (for clients that neither register themselves nor publish a document)."""
    if not client_id or len(client_id) > 500:
        raise ServiceError("Give a client id of at most 500 characters.", field="client_id")
    if OAuthClient.objects.filter(client_id=client_id).exists():
        raise ServiceError(f"Client id {client_id!r} is already registered.", field="client_id")
    client = OAuthClient.objects.create(
        client_id=client_id,
        kind=OAuthClient.Kind.REGISTERED,
        name=name[:200],
        redirect_uris=clean_redirect_uris(redirect_uris),
        created_by=actor.label[:150],
    )
    audit_record(
        actor=actor,
        target=f"oauth_client:{client.client_id}",
        details={"operation": "oauth_client.register", "kind": client.kind, "name": client.name},
    )
    return client


@transaction.atomic
def client_block(*, client: OAuthClient, actor: Actor, reason: str = "") -> OAuthClient:
    """Refuse the client from now on: no new authorizations, no token requests, and its tokens stop working
    (its grants are revoked, which every server process sees on the next call)."""
    locked = OAuthClient.objects.select_for_update().get(pk=client.pk)
    if locked.blocked_at is None:
        locked.blocked_at = timezone.now()
        locked.blocked_reason = reason[:200]
        locked.save(update_fields=["blocked_at", "blocked_reason"])
        audit_record(
            actor=actor,
            target=f"oauth_client:{locked.client_id}",
            details={"operation": "oauth_client.block", "reason": reason[:200]},
        )
        for grant in locked.grants.filter(revoked_at__isnull=True):
            grant_revoke(grant=grant, actor=actor, reason="client blocked")
    client.blocked_at, client.blocked_reason = locked.blocked_at, locked.blocked_reason
    return locked


@transaction.atomic
def client_unblock(*, client: OAuthClient, actor: Actor) -> OAuthClient:
    OAuthClient.objects.filter(pk=client.pk).update(blocked_at=None, blocked_reason="")
    client.blocked_at, client.blocked_reason = None, ""
    audit_record(actor=actor, target=f"oauth_client:{client.client_id}", details={"operation": "oauth_client.unblock"})
    return client


def clients_expire_unused() -> int:
    """Delete dynamic registrations older than OAUTH_UNUSED_REGISTRATION_SECONDS that never got a grant."""
    cutoff = timezone.now() - timedelta(seconds=settings.OAUTH_UNUSED_REGISTRATION_SECONDS)
    deleted, _ = OAuthClient.objects.filter(
        kind=OAuthClient.Kind.DYNAMIC, created_at__lt=cutoff, grants__isnull=True
    ).delete()
    return deleted


def client_touch(client_pk) -> None:
    OAuthClient.objects.filter(pk=client_pk).update(last_used_at=timezone.now())
