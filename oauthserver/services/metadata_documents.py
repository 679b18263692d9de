"""Client ID Metadata Documents: the client id is an HTTPS URL whose JSON document describes the client.

The fetch is an SSRF surface, so: https only; the host's addresses must all be public (no private, loopback,
link-local, reserved...) and the connection goes to the address that was checked, so DNS cannot swap it
afterwards; no redirects; a size cap and an overall deadline (a slow drip cannot hold a worker); the document
must name itself as client_id. OAUTH_CLIENT_METADATA_ALLOW_PRIVATE lifts the address and scheme rules for
development on one machine. Fetched documents are cached on the client row.
"""

import asyncio
import ipaddress
import json
import logging
import socket
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from urllib.parse import urlsplit, urlunsplit

import httpx2
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from oauthserver.models import OAuthClient
from oauthserver.services.clients import clean_redirect_uris, clients_expire_unused, display_metadata
from tenants.services.actors import Actor
from tenants.services.audit import audit_record
from tenants.services.errors import ServiceError

logger = logging.getLogger(__name__)


# Fetches in flight per process. Each holds a worker thread for up to the timeout, and those threads serve every
# tenant's MCP calls too: past this many, a fetch is refused at once instead of taking another thread, so a flood
# of client ids pointing at slow servers cannot starve the process.
MAX_CONCURRENT_FETCHES = 4
_fetch_slots = threading.BoundedSemaphore(MAX_CONCURRENT_FETCHES)


class MetadataDocumentError(ServiceError):
    code = "invalid_client_metadata"


def is_metadata_document_url(client_id: str) -> bool:
    parts = urlsplit(client_id)
    schemes = ("https", "http") if settings.OAUTH_CLIENT_METADATA_ALLOW_PRIVATE else ("https",)
    return parts.scheme in schemes and bool(parts.hostname) and parts.path not in ("", "/")


def metadata_document_client(*, client_id: str, fetch_unknown: bool = True) -> OAuthClient | None:
    """The client this URL describes, fetched or refreshed when the cached copy is older than the cache time.
    None when the document cannot be used (the reason is logged) or the client is blocked. With fetch_unknown
    False a URL never seen before is None without a fetch: only /authorize (rate-limited) introduces a client."""
    client = OAuthClient.objects.filter(client_id=client_id).first()
    if client is None and not fetch_unknown:
        return None
    if client is not None and client.blocked_at is not None:
        return None
    if client is not None and client.kind != OAuthClient.Kind.METADATA_DOCUMENT:
        return client
    fresh_after = timezone.now() - timedelta(seconds=settings.OAUTH_CLIENT_METADATA_CACHE_SECONDS)
    if client is not None and client.metadata_fetched_at and client.metadata_fetched_at > fresh_after:
        return client
    try:
        document = fetch_metadata_document(client_id)
        return _store(client_id, document)
    except MetadataDocumentError as exc:
        logger.warning("Client metadata document %s refused: %s", client_id[:200], exc.message)
        return None


def fetch_metadata_document(url: str) -> dict:
    parts = urlsplit(url)
    if not is_metadata_document_url(url):
        raise MetadataDocumentError("The client id must be an https URL with a path.")
    address = _public_address(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))
    host = f"[{address}]" if ":" in address else address
    netloc = f"{host}:{parts.port}" if parts.port else host
    pinned = urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))
    if not _fetch_slots.acquire(blocking=False):
        raise MetadataDocumentError("Too many client metadata documents are being fetched at once; retry shortly.")
    try:
        body = _run(_download(pinned, host_header=parts.netloc.rsplit("@", 1)[-1], sni_hostname=parts.hostname))
    finally:
        _fetch_slots.release()
    try:
        document = json.loads(bytes(body))
    except ValueError:
        raise MetadataDocumentError("The document is not JSON.") from None
    if not isinstance(document, dict) or document.get("client_id") != url:
        raise MetadataDocumentError("The document's client_id must be its own URL.")
    if document.get("token_endpoint_auth_method", "none") != "none":
        raise MetadataDocumentError("Only public clients (token_endpoint_auth_method none) are supported.")
    return document


async def _download(url: str, *, host_header: str, sni_hostname: str) -> bytes:
    """The body of a 200 answer, within the size cap and one deadline for everything: a read timeout restarts with
    each byte, so a server dripping its status line, headers or body a byte at a time is cut off here."""
    seconds = settings.OAUTH_CLIENT_METADATA_TIMEOUT_SECONDS
    limit = settings.OAUTH_CLIENT_METADATA_MAX_BYTES
    try:
        async with asyncio.timeout(seconds):
            async with httpx2.AsyncClient(
                timeout=httpx2.Timeout(seconds), follow_redirects=False, trust_env=False
            ) as http:
                request = http.build_request(
                    "GET",
                    url,
                    headers={"Host": host_header, "Accept": "application/json"},
                    extensions={"sni_hostname": sni_hostname},
                )
                response = await http.send(request, stream=True)
                try:
                    if response.status_code != 200:
                        raise MetadataDocumentError(f"The document answered HTTP {response.status_code}, not 200.")
                    body = bytearray()
                    async for chunk in response.aiter_bytes():
                        body += chunk
                        if len(body) > limit:
                            raise MetadataDocumentError(f"The document is larger than {limit} bytes.")
                finally:
                    await response.aclose()
    except TimeoutError:
        raise MetadataDocumentError("The document took too long to arrive.") from None
    except httpx2.HTTPError as exc:
        raise MetadataDocumentError(f"The document could not be fetched ({type(exc).__name__}).") from None
    return bytes(body)


def _run(coroutine):
    """Run the download on an event loop of its own (callers are worker threads, which have none)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


# NAT64 (RFC 6052 well-known prefix; RFC 8215 local use): the IPv4 address is in the last 32 bits, or somewhere
# inside for the local-use prefix, which has no business in a public client's DNS at all.
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")


def _is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Global, and so is any IPv4 address inside it: mapped, 6to4 and NAT64 addresses count as global
    themselves, yet where they are routed they reach the IPv4 address they carry (64:ff9b::a00:1 is 10.0.0.1)."""
    if isinstance(address, ipaddress.IPv4Address):
        return address.is_global
    if address in _NAT64_LOCAL:
        return False
    embedded = address.ipv4_mapped or address.sixtofour
    if embedded is None and address in _NAT64:
        embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if embedded is not None:
        return embedded.is_global
    return address.is_global


def _public_address(host: str, port: int) -> str:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise MetadataDocumentError(f"The host {host!r} does not resolve.") from None
    addresses = [ipaddress.ip_address(info[4][0].split("%", 1)[0]) for info in infos]
    if not settings.OAUTH_CLIENT_METADATA_ALLOW_PRIVATE:
        # Every address must be public: a name resolving to one public and one private address is refused too.
        for address in addresses:
            if not _is_public(address):
                raise MetadataDocumentError(f"The host {host!r} resolves to a non-public address.")
    return str(addresses[0])


@transaction.atomic
def _store(client_id: str, document: dict) -> OAuthClient:
    try:
        redirect_uris = clean_redirect_uris(document.get("redirect_uris"))
    except ServiceError as exc:
        raise MetadataDocumentError(exc.message) from None
    name = document.get("client_name") if isinstance(document.get("client_name"), str) else ""
    clients_expire_unused()
    client, created = OAuthClient.objects.update_or_create(
        client_id=client_id,
        defaults={
            "kind": OAuthClient.Kind.METADATA_DOCUMENT,
            "name": name[:200],
            "redirect_uris": redirect_uris,
            "metadata": display_metadata(document),
            "metadata_fetched_at": timezone.now(),
        },
    )
    if created:
        audit_record(
            actor=Actor("oauth-metadata-document"),
            target=f"oauth_client:{client_id}"[:300],
            details={"operation": "oauth_client.register", "kind": client.kind, "name": client.name},
        )
    return client
