"""Client ID Metadata Documents: fetched with SSRF protection, size and time limits, cached; a client that
publishes one connects with the SDK's provider and no registration."""

import socket
import time

import anyio
import httpx2
import pytest

from oauthserver.models import OAuthClient
from oauthserver.services.metadata_documents import (
    MetadataDocumentError,
    fetch_metadata_document,
    metadata_document_client,
)
from tests.factories import make_tenant
from tests.mcp.helpers import ROLE_TOOLS, tool_names
from tests.oauth.conftest import (
    REDIRECT_URI,
    PersonAtTheBrowser,
    authorization_url,
    oauth_mcp_client,
    oauth_provider,
    person_in,
    pkce_pair,
)
from tests.oauth.documents import DocumentServer


@pytest.fixture
def documents():
    server = DocumentServer()
    yield server
    server.close()


def _document(url: str, **extra) -> dict:
    return {"client_id": url, "client_name": "Published client", "redirect_uris": [REDIRECT_URI], **extra}


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/client.json",
        "https://localhost/client.json",
        "https://10.0.0.8/client.json",
        "https://192.168.1.1/client.json",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/client.json",
        "https://[::ffff:127.0.0.1]/client.json",
        "https://100.64.0.1/client.json",
        "http://93.184.215.14/client.json",
        "https://example.com/",
    ],
)
def test_private_addresses_plain_http_and_rootless_urls_are_never_fetched(url, settings):
    settings.OAUTH_CLIENT_METADATA_ALLOW_PRIVATE = False
    with pytest.raises(MetadataDocumentError):
        fetch_metadata_document(url)


def test_a_good_document_is_accepted_under_the_development_setting(documents, settings):
    settings.OAUTH_CLIENT_METADATA_ALLOW_PRIVATE = True
    url = documents.base + "/client.json"
    documents.publish("/client.json", _document(url))
    assert fetch_metadata_document(url)["client_name"] == "Published client"


@pytest.mark.parametrize(
    "publish, reason",
    [
        (lambda d, url: d.publish("/c.json", raw=b"{" + b" " * 70_000 + b"}"), "larger than"),
        (lambda d, url: d.publish("/c.json", _document(url), drip=0.05), "too long"),
        (lambda d, url: d.publish("/c.json", status=302, raw=b"", headers={"Location": "http://10.0.0.1/"}), "302"),
        (lambda d, url: d.publish("/c.json", _document("https://other.example/c.json")), "own URL"),
        (lambda d, url: d.publish("/c.json", raw=b"not json"), "not JSON"),
        (
            lambda d, url: d.publish("/c.json", _document(url, token_endpoint_auth_method="client_secret_basic")),
            "public",
        ),
    ],
    ids=["oversized", "slow", "redirect", "foreign-client-id", "not-json", "confidential"],
)
def test_unusable_documents_are_refused(documents, settings, publish, reason):
    settings.OAUTH_CLIENT_METADATA_ALLOW_PRIVATE = True
    settings.OAUTH_CLIENT_METADATA_TIMEOUT_SECONDS = 1.0
    url = documents.base + "/c.json"
    publish(documents, url)
    with pytest.raises(MetadataDocumentError) as info:
        fetch_metadata_document(url)
    assert reason in info.value.message


def test_headers_dripped_a_byte_at_a_time_cannot_hold_the_fetch_past_its_deadline(documents, settings):
    """A read timeout restarts with every byte: the deadline must hold for the status line and headers as well,
    or one slow server holds a worker thread (and its database connection) for as long as it likes."""
    settings.OAUTH_CLIENT_METADATA_ALLOW_PRIVATE = True
    settings.OAUTH_CLIENT_METADATA_TIMEOUT_SECONDS = 1.0
    url = documents.publish("/c.json", raw=b"", headers={"X-Drip-Headers": "0.05"})  # 11 s of headers
    started = time.monotonic()
    with pytest.raises(MetadataDocumentError) as info:
        fetch_metadata_document(url)
    assert time.monotonic() - started < 2.5
    assert "too long" in info.value.message


@pytest.mark.parametrize(
    "address",
    ["64:ff9b::a00:1", "64:ff9b::7f00:1", "2002:7f00:1::1", "2002:a00:1::1", "::ffff:10.0.0.1"],
    ids=["nat64-private", "nat64-loopback", "6to4-loopback", "6to4-private", "mapped-private"],
)
def test_ipv6_addresses_embedding_a_private_ipv4_are_refused(address, settings, monkeypatch):
    """NAT64 (64:ff9b::/96) and 6to4 (2002::/16) addresses count as global, yet on a network that routes them they
    reach the IPv4 address inside: 64:ff9b::a00:1 is 10.0.0.1."""
    settings.OAUTH_CLIENT_METADATA_ALLOW_PRIVATE = False
    resolved = [(socket.AF_INET6, socket.SOCK_STREAM, 6, "", (address, 443, 0, 0))]
    monkeypatch.setattr(socket, "getaddrinfo", lambda *args, **kwargs: resolved)
    with pytest.raises(MetadataDocumentError) as info:
        fetch_metadata_document("https://rebinding.example/client.json")
    assert "non-public" in info.value.message


@pytest.mark.django_db
def test_a_redirect_uri_the_oauth_handlers_cannot_parse_is_refused_when_the_document_is_read(documents, settings):
    """clean_redirect_uris accepted what the SDK's models reject (a space in the host), so every later
    request of that client failed inside the SDK (/oauth/authorize answered server_error)."""
    settings.OAUTH_CLIENT_METADATA_ALLOW_PRIVATE = True
    url = documents.base + "/client.json"
    documents.publish("/client.json", _document(url, redirect_uris=["https://exa mple.com/cb"]))
    assert metadata_document_client(client_id=url) is None
    assert not OAuthClient.objects.exists()


@pytest.mark.django_db
def test_documents_are_cached_and_blocked_clients_stay_blocked(documents, settings):
    settings.OAUTH_CLIENT_METADATA_ALLOW_PRIVATE = True
    url = documents.base + "/client.json"
    documents.publish("/client.json", _document(url))
    client = metadata_document_client(client_id=url)
    assert client.kind == OAuthClient.Kind.METADATA_DOCUMENT and client.redirect_uris == [REDIRECT_URI]
    documents.publish("/client.json", status=500, raw=b"")
    assert metadata_document_client(client_id=url) == client  # served from the cache
    OAuthClient.objects.filter(pk=client.pk).update(blocked_at=client.created_at)
    assert metadata_document_client(client_id=url) is None


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_metadata_document_on_a_private_address_is_refused_at_authorize(control_plane):
    server = control_plane()
    _, challenge = pkce_pair()
    response = httpx2.get(authorization_url(server.url, "https://10.0.0.8/client.json", challenge))
    assert response.status_code == 400 and response.json()["error"] == "invalid_request"
    assert not OAuthClient.objects.exists()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_sdk_client_with_a_metadata_document_connects_without_registering(control_plane, documents):
    server = control_plane(OAUTH_CLIENT_METADATA_ALLOW_PRIVATE=1)
    user = person_in((make_tenant(), "user"))
    url = documents.base + "/assistant.json"
    documents.publish("/assistant.json", _document(url))
    person = PersonAtTheBrowser(user.username)
    # The SDK accepts only https document URLs; the development setting lets the server take a loopback one.
    auth = oauth_provider(server.url, person)
    auth.context.client_metadata_url = url

    async def main():
        async with oauth_mcp_client(server.url, auth) as client:
            assert await tool_names(client) == ROLE_TOOLS["user"]
            await client.call_tool("kv_set", {"key": "k", "value": "v"})
            return (await client.call_tool("kv_get", {"key": "k"})).structured_content

    assert anyio.run(main)["value"] == "v"
    client = OAuthClient.objects.get()
    assert client.client_id == url and client.kind == OAuthClient.Kind.METADATA_DOCUMENT
    assert client.grants.count() == 1
