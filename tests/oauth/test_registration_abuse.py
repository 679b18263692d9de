"""Dynamic registration (RFC 7591) as a flood would use it: from many addresses of one IPv6 host, with the largest
bodies the endpoint takes, and while the rate limit's Redis is down. The routes run in process (ASGI), so the
test can choose the client address of every request."""

import secrets

import anyio
import httpx2
import pytest
from django.test.utils import override_settings
from starlette.applications import Starlette

from oauthserver.models import OAuthClient
from oauthserver.routes import authorization_routes
from tenants.api import ratelimit
from tests.faults.redis_server import redis_server  # noqa: F401  (fixture)
from tests.oauth.conftest import REDIRECT_URI

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


@pytest.fixture
def redis_rate_limits(redis_server):
    original = ratelimit._limiter
    with override_settings(API_RATE_LIMIT_STORAGE_URL=redis_server.url):
        ratelimit._limiter = None  # built again from the setting on first use
        yield redis_server
    ratelimit._limiter = original


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
