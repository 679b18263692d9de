"""OAuth clients: dynamic registrations, staff registrations, blocking."""

from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from pydantic import AnyUrl, ValidationError

from oauthserver.models import OAuthClient
from oauthserver.services.grants import grant_revoke
from tenants.services.actors import Actor
from tenants.services.audit import audit_record
from tenants.services.errors import ServiceError

MAX_REDIRECT_URIS = 10
_LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
# Schemes a browser would run or read locally instead of handing to an app.
_FORBIDDEN_SCHEMES = frozenset({"javascript", "data", "vbscript", "file", "blob", "about"})


def clean_redirect_uris(redirect_uris) -> list[str]:
    """OAuth 2.1 redirect URIs: absolute, no fragment; https, http only on loopback (native apps), or an app's
    own scheme."""
    uris = [str(uri) for uri in redirect_uris or []]
    if not uris:
        raise ServiceError("Give at least one redirect URI.", field="redirect_uris")
    if len(uris) > MAX_REDIRECT_URIS:
        raise ServiceError(f"At most {MAX_REDIRECT_URIS} redirect URIs.", field="redirect_uris")
    for uri in uris:
        parts = urlsplit(uri)
        scheme = parts.scheme.lower()
        usable = (
            len(uri) <= 2000
            and not parts.fragment
            and "#" not in uri
            and scheme
            and scheme not in _FORBIDDEN_SCHEMES
            and (scheme != "http" or parts.hostname in _LOOPBACK_HOSTS)
            and (scheme not in ("http", "https") or parts.hostname)
            and _parses(uri)
        )
        if not usable:
            raise ServiceError(
                f"{uri[:100]!r} is not a usable redirect URI: use https, http on a loopback address, or your "
                "app's own scheme, absolute and without a fragment.",
                field="redirect_uris",
            )
    return uris


# What the admin shows of a client's own description; the rest of a registration body is not kept.
_DISPLAY_FIELDS = ("client_uri", "logo_uri", "software_id", "software_version")
_DISPLAY_FIELD_CHARS = 500


def display_metadata(metadata: dict) -> dict:
    """The display fields of a registration or metadata document, each a string of bounded length: unused
    registrations are kept for a day, so what one costs must not depend on what its body carried."""
    return {
        field: value[:_DISPLAY_FIELD_CHARS]
        for field, value in metadata.items()
        if field in _DISPLAY_FIELDS and isinstance(value, str)
    }


def _parses(uri: str) -> bool:
    """The SDK's OAuth models hold redirect URIs as pydantic URLs: one they cannot parse (a space in the host)
    would make every later request of the client fail inside the SDK."""
    try:
        AnyUrl(uri)
    except ValidationError:
        return False
    return True


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
        metadata=display_metadata(metadata),
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
    """Delete dynamic registrations and metadata-document clients older than OAUTH_UNUSED_REGISTRATION_SECONDS that
    never got a grant (anyone can create either; a client that comes back is simply registered or fetched again)."""
    cutoff = timezone.now() - timedelta(seconds=settings.OAUTH_UNUSED_REGISTRATION_SECONDS)
    deleted, _ = OAuthClient.objects.filter(
        kind__in=(OAuthClient.Kind.DYNAMIC, OAuthClient.Kind.METADATA_DOCUMENT), created_at__lt=cutoff,
        grants__isnull=True,
    ).delete()
    return deleted


def client_touch(client_pk) -> None:
    OAuthClient.objects.filter(pk=client_pk).update(last_used_at=timezone.now())
