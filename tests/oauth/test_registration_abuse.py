"""Registration and authorization requests as a flood would send them: from many addresses of one IPv6 host, with
the largest bodies and fields the endpoints take, while the rate limit's Redis is down, and client ids pointing at
slow metadata documents. The routes run in process (ASGI), so the test can choose every request's client address."""

import secrets
import threading
from datetime import timedelta
import time
from urllib.parse import parse_qs, urlparse

import anyio
import httpx2
import pytest
from django.utils import timezone
from starlette.applications import Starlette

from oauthserver import routes
from oauthserver.models import AuthorizationRequest, OAuthClient
from oauthserver.routes import authorization_routes
from oauthserver.services.metadata_documents import (
    MAX_CONCURRENT_FETCHES,
    MetadataDocumentError,
    fetch_metadata_document,
    metadata_document_client,
)
from tests.faults.redis_server import redis_rate_limits, redis_server  # noqa: F401  (fixtures)
from tests.oauth.conftest import REDIRECT_URI, authorization_url, pkce_pair
from tests.oauth.documents import DocumentServer

pytestmark = pytest.mark.django_db(transaction=True)

_ISSUER = "http://testserver"


def _register(address: str, body: dict) -> httpx2.Response:
    app = Starlette(routes=authorization_routes(issuer=_ISSUER, resource=_ISSUER + "/mcp"))

    async def main():
        transport = httpx2.ASGITransport(app=app, client=(address, 40000))
        async with httpx2.AsyncClient(transport=transport, base_url=_ISSUER) as http:
            return await http.post("/oauth/register", json=body)

    return anyio.run(main)


def _subnet() -> str:
    """A /64 of its own per test run, so the rate windows of earlier runs do not count."""
    return "2001:db8:" + ":".join(secrets.token_hex(2) for _ in range(2))


def test_one_ipv6_host_cannot_spread_registrations_over_the_addresses_of_its_64(settings):
    """A host holds a whole /64 (2^64 addresses): counting per address would not limit it at all."""
    settings.OAUTH_REGISTRATIONS_PER_MINUTE = 3
    subnet = _subnet()
    body = {"client_name": "Flood", "redirect_uris": [REDIRECT_URI]}
    statuses = [_register(f"{subnet}::{i + 1:x}", body).status_code for i in range(6)]
    assert statuses == [201, 201, 201, 429, 429, 429]
    # Another /64 (another customer of the same provider) is not affected.
    assert _register(f"{_subnet()}::1", body).status_code == 201


def test_a_registration_stores_a_bounded_amount_whatever_the_body_holds(settings):
    """Unused registrations live a day: at the body cap (64 KiB) each one kept the whole body as metadata, so a flood
    from many addresses filled the database. Only the display fields are kept, each bounded."""
    settings.OAUTH_REGISTRATIONS_PER_MINUTE = 100
    big = "x" * 12_000
    body = {
        "client_name": big,
        "redirect_uris": [REDIRECT_URI],
        "client_uri": "https://client.example/" + big,
        "software_id": big,
        "contacts": [big],
        "tos_uri": "https://client.example/tos/" + big,
    }
    response = _register(f"{_subnet()}::1", body)
    assert response.status_code == 201, response.text
    client = OAuthClient.objects.get(client_id=response.json()["client_id"])
    assert len(client.name) <= 200
    stored = len(str(client.metadata)) + len(str(client.redirect_uris))
    assert stored < 3000, stored


def test_registration_answers_503_with_retry_after_while_the_rate_limit_store_is_down(redis_rate_limits):
    body = {"client_name": "During an outage", "redirect_uris": [REDIRECT_URI]}
    assert _register("192.0.2.10", body).status_code == 201
    redis_rate_limits.kill()
    response = _register("192.0.2.10", body)
    assert response.status_code == 503 and response.headers["Retry-After"] == "1"
    assert response.json()["error"] == "temporarily_unavailable"
    assert OAuthClient.objects.count() == 1
    redis_rate_limits.start()
    assert _register("192.0.2.10", body).status_code == 201


def _get(path: str, address: str = "192.0.2.20") -> httpx2.Response:
    app = Starlette(routes=authorization_routes(issuer=_ISSUER, resource=_ISSUER + "/mcp"))

    async def main():
        transport = httpx2.ASGITransport(app=app, client=(address, 40000))
        async with httpx2.AsyncClient(transport=transport, base_url=_ISSUER) as http:
            return await http.get(path)

    return anyio.run(main)


@pytest.mark.parametrize(
    "override",
    [{"state": "s" * 2001}, {"code_challenge": "c" * 500}, {"code_challenge": "not base64url!"}],
    ids=["state-too-long", "challenge-too-long", "challenge-not-a-digest"],
)
def test_an_oversized_authorization_request_is_a_bad_request_not_a_server_error(settings, override):
    """The request's fields go into columns of fixed size: too long was a database error and `server_error`."""
    settings.OAUTH_REGISTRATIONS_PER_MINUTE = 100
    client_id = _register(f"{_subnet()}::1", {"client_name": "c", "redirect_uris": [REDIRECT_URI]}).json()["client_id"]
    _, challenge = pkce_pair()
    response = _get(authorization_url(_ISSUER, client_id, challenge, **override)[len(_ISSUER):], f"{_subnet()}::1")
    assert response.status_code == 302
    error = parse_qs(urlparse(response.headers["location"]).query)["error"]
    assert error == ["invalid_request"]
    assert not AuthorizationRequest.objects.exists()


def test_authorization_requests_are_rate_limited_per_network(settings, monkeypatch):
    """Each request stores a row until it expires, and anyone may send one: a flood is refused before storing."""
    settings.OAUTH_REGISTRATIONS_PER_MINUTE = 100
    monkeypatch.setattr(routes, "AUTHORIZATIONS_PER_MINUTE", 3)
    subnet = _subnet()
    client_id = _register(f"{subnet}::1", {"client_name": "c", "redirect_uris": [REDIRECT_URI]}).json()["client_id"]
    _, challenge = pkce_pair()
    path = authorization_url(_ISSUER, client_id, challenge)[len(_ISSUER):]
    statuses = [_get(path, f"{subnet}::{i + 1:x}").status_code for i in range(5)]
    assert statuses == [302, 302, 302, 429, 429]
    assert AuthorizationRequest.objects.count() == 3
    assert _get(path, f"{_subnet()}::1").status_code == 302


def test_slow_metadata_documents_take_at_most_a_few_worker_threads(settings):
    """The fetch runs in a worker thread the MCP calls of every tenant share; ten client ids pointing at a server
    that answers slowly must not take ten of them: past MAX_CONCURRENT_FETCHES a fetch is refused at once."""
    settings.OAUTH_CLIENT_METADATA_ALLOW_PRIVATE = True
    settings.OAUTH_CLIENT_METADATA_TIMEOUT_SECONDS = 2.0
    server = DocumentServer()
    try:
        urls = [server.publish(f"/c{i}.json", raw=b"", headers={"X-Drip-Headers": "0.05"}) for i in range(10)]
        outcomes: list[tuple[str, float]] = []

        def fetch(url):
            started = time.monotonic()
            try:
                fetch_metadata_document(url)
            except MetadataDocumentError as exc:
                outcomes.append((exc.message, time.monotonic() - started))

        threads = [threading.Thread(target=fetch, args=(url,)) for url in urls]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(10)
    finally:
        server.close()
    busy = [elapsed for message, elapsed in outcomes if "at once" in message]
    assert len(outcomes) == 10
    assert len(busy) == 10 - MAX_CONCURRENT_FETCHES
    assert max(busy) < 0.5


def _post_form(path: str, form: dict, address: str = "192.0.2.30") -> httpx2.Response:
    app = Starlette(routes=authorization_routes(issuer=_ISSUER, resource=_ISSUER + "/mcp"))

    async def main():
        transport = httpx2.ASGITransport(app=app, client=(address, 40000))
        async with httpx2.AsyncClient(transport=transport, base_url=_ISSUER) as http:
            return await http.post(path, data=form)

    return anyio.run(main)


def test_token_and_revocation_requests_never_fetch_or_store_an_unknown_document_client(settings):
    """Those endpoints are not rate-limited and need no client they have not seen (it holds no code or token):
    a URL client id there made the server fetch a document and keep a client row, per URL anyone invents."""
    settings.OAUTH_CLIENT_METADATA_ALLOW_PRIVATE = True
    server = DocumentServer()
    fetched = []
    try:
        for i in range(3):
            document = {"client_id": f"{server.base}/c{i}.json", "redirect_uris": [REDIRECT_URI]}
            url = server.publish(f"/c{i}.json", document)
            token = _post_form("/oauth/token", {
                "grant_type": "authorization_code", "code": "x", "code_verifier": "v" * 43, "client_id": url,
                "redirect_uri": REDIRECT_URI,
            })
            revoke = _post_form("/oauth/revoke", {"token": "x", "client_id": url})
            fetched.append((token.status_code, revoke.status_code))
    finally:
        server.close()
    assert all(token in (400, 401) and revoke == 401 for token, revoke in fetched), fetched
    assert not OAuthClient.objects.exists()


def test_metadata_document_clients_that_never_got_a_grant_expire(settings):
    settings.OAUTH_CLIENT_METADATA_ALLOW_PRIVATE = True
    settings.OAUTH_UNUSED_REGISTRATION_SECONDS = 3600
    server = DocumentServer()
    try:
        old = server.publish("/old.json", {"client_id": f"{server.base}/old.json", "redirect_uris": [REDIRECT_URI]})
        new = server.publish("/new.json", {"client_id": f"{server.base}/new.json", "redirect_uris": [REDIRECT_URI]})
        assert metadata_document_client(client_id=old) is not None
        OAuthClient.objects.filter(client_id=old).update(created_at=timezone.now() - timedelta(hours=2))
        assert metadata_document_client(client_id=new) is not None
    finally:
        server.close()
    assert set(OAuthClient.objects.values_list("client_id", flat=True)) == {new}


def test_token_requests_are_rate_limited_per_network(monkeypatch):
    monkeypatch.setattr(routes, "TOKEN_REQUESTS_PER_MINUTE", 3)
    subnet = _subnet()
    form = {"grant_type": "refresh_token", "refresh_token": "cpr_made_up", "client_id": "nobody"}
    statuses = [_post_form("/oauth/token", form, f"{subnet}::{i + 1:x}").status_code for i in range(5)]
    assert 429 not in statuses[:3]
    assert statuses[3:] == [429, 429]
    assert _post_form("/oauth/token", form, f"{_subnet()}::1").status_code != 429
