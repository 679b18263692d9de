"""Every way an OAuth request can be wrong gets the proper OAuth error, and nothing is granted."""

import time
from urllib.parse import parse_qs, urlparse

import anyio
import httpx2
import pytest

from oauthserver.models import AuthorizationRequest, OAuthClient, OAuthGrant, OAuthToken
from tests.factories import make_tenant
from tests.mcp.conftest import http_client
from tests.mcp.helpers import tool_names
from tests.oauth.conftest import (
    REDIRECT_URI,
    authorization_url,
    mcp_status,
    obtain_tokens,
    person_in,
    pkce_pair,
    register_client,
    sign_in_and_consent,
    token_request,
)

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def _redirect_error(response: httpx2.Response) -> dict:
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    assert location.startswith(REDIRECT_URI)
    return {k: v[0] for k, v in parse_qs(urlparse(location).query).items()}


def _works(server_url: str, access_token: str) -> bool:
    async def main():
        async with http_client(server_url, access_token) as client:
            return await tool_names(client)

    return bool(anyio.run(main))


def test_authorization_requests_without_s256_pkce_or_with_a_wrong_resource_are_refused(control_plane):
    server = control_plane()
    client_id = register_client(server.url)["client_id"]
    _, challenge = pkce_pair()
    cases = {
        "missing PKCE": ({"code_challenge": None}, "invalid_request"),
        "plain PKCE": ({"code_challenge_method": "plain"}, "invalid_request"),
        "missing resource": ({"resource": None}, "invalid_request"),
        "another resource": ({"resource": "https://elsewhere.example/mcp"}, "invalid_target"),
        "unknown scope": ({"scope": "kv.read root.everything"}, "invalid_scope"),
    }
    for name, (overrides, error) in cases.items():
        base = {"code_challenge": challenge, **overrides}
        url = authorization_url(server.url, client_id, base.pop("code_challenge"), **base)
        answer = _redirect_error(httpx2.get(url))
        assert answer["error"] == error, name
        assert answer["state"] == "st4te"
        assert "code" not in answer
    assert not AuthorizationRequest.objects.exists()


def test_a_redirect_uri_the_client_did_not_register_gets_no_redirect(control_plane):
    server = control_plane()
    client_id = register_client(server.url)["client_id"]
    _, challenge = pkce_pair()
    url = authorization_url(server.url, client_id, challenge, redirect_uri="https://attacker.example/cb")
    response = httpx2.get(url)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    assert not AuthorizationRequest.objects.exists()


def test_a_wrong_code_verifier_or_redirect_uri_redeems_nothing(control_plane):
    server = control_plane()
    tenant = make_tenant()
    user = person_in((tenant, "user"))
    client_id = register_client(server.url)["client_id"]
    verifier, challenge = pkce_pair()
    returned = anyio.run(
        lambda: sign_in_and_consent(authorization_url(server.url, client_id, challenge), username=user.username)
    )
    code = parse_qs(urlparse(returned).query)["code"][0]
    wrong_verifier = token_request(
        server.url, grant_type="authorization_code", code=code, code_verifier=pkce_pair()[0], client_id=client_id
    )
    assert wrong_verifier.status_code == 400 and wrong_verifier.json()["error"] == "invalid_grant"
    wrong_redirect = token_request(
        server.url,
        grant_type="authorization_code",
        code=code,
        code_verifier=verifier,
        client_id=client_id,
        redirect_uri="http://127.0.0.1:9/other",
    )
    assert wrong_redirect.status_code == 400 and wrong_redirect.json()["error"] == "invalid_request"
    assert not OAuthToken.objects.exists()


def test_denying_returns_access_denied_and_grants_nothing(control_plane):
    server = control_plane()
    user = person_in((make_tenant(), "user"))
    client_id = register_client(server.url)["client_id"]
    _, challenge = pkce_pair()
    returned = anyio.run(
        lambda: sign_in_and_consent(
            authorization_url(server.url, client_id, challenge), username=user.username, allow=False
        )
    )
    answer = {k: v[0] for k, v in parse_qs(urlparse(returned).query).items()}
    assert answer["error"] == "access_denied" and answer["state"] == "st4te" and "code" not in answer
    assert not OAuthGrant.objects.exists()


def test_a_code_redeemed_twice_revokes_its_grant(control_plane):
    server = control_plane()
    user = person_in((make_tenant(), "user"))
    client_id = register_client(server.url)["client_id"]
    verifier, challenge = pkce_pair()
    returned = anyio.run(
        lambda: sign_in_and_consent(authorization_url(server.url, client_id, challenge), username=user.username)
    )
    code = parse_qs(urlparse(returned).query)["code"][0]
    redeem = dict(grant_type="authorization_code", code=code, code_verifier=verifier, client_id=client_id)
    first = token_request(server.url, **redeem)
    assert first.status_code == 200
    second = token_request(server.url, **redeem)
    assert second.status_code == 400 and second.json()["error"] == "invalid_grant"
    assert mcp_status(server.url, first.json()["access_token"]) == 401
    assert OAuthGrant.objects.get().revoked_at is not None


def test_refresh_rotates_and_a_reused_refresh_token_revokes_the_grant(control_plane):
    server = control_plane()
    user = person_in((make_tenant(), "user"))
    client, tokens = obtain_tokens(server.url, user.username)
    refresh = dict(grant_type="refresh_token", client_id=client["client_id"])
    rotated = token_request(server.url, refresh_token=tokens["refresh_token"], **refresh)
    assert rotated.status_code == 200, rotated.text
    new = rotated.json()
    assert new["refresh_token"] != tokens["refresh_token"] and new["access_token"] != tokens["access_token"]
    assert _works(server.url, new["access_token"])

    replayed = token_request(server.url, refresh_token=tokens["refresh_token"], **refresh)
    assert replayed.status_code == 400 and replayed.json()["error"] == "invalid_grant"
    # The whole grant is gone: the newest tokens too.
    assert mcp_status(server.url, new["access_token"]) == 401
    again = token_request(server.url, refresh_token=new["refresh_token"], **refresh)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    assert OAuthGrant.objects.get().revoked_at is not None


def test_revoked_access_token_is_refused_on_the_next_call(control_plane):
    server = control_plane()
    user = person_in((make_tenant(), "user"))
    client, tokens = obtain_tokens(server.url, user.username)
    assert _works(server.url, tokens["access_token"])
    response = httpx2.post(
        server.url + "/oauth/revoke", data={"token": tokens["access_token"], "client_id": client["client_id"]}
    )
    assert response.status_code == 200
    assert mcp_status(server.url, tokens["access_token"]) == 401


def test_revoking_the_refresh_token_ends_the_grant(control_plane):
    server = control_plane()
    user = person_in((make_tenant(), "user"))
    client, tokens = obtain_tokens(server.url, user.username)
    response = httpx2.post(
        server.url + "/oauth/revoke",
        data={"token": tokens["refresh_token"], "token_type_hint": "refresh_token", "client_id": client["client_id"]},
    )
    assert response.status_code == 200
    assert mcp_status(server.url, tokens["access_token"]) == 401
    refreshed = token_request(
        server.url, grant_type="refresh_token", refresh_token=tokens["refresh_token"], client_id=client["client_id"]
    )
    assert refreshed.json()["error"] == "invalid_grant"


def test_an_expired_access_token_is_refused(control_plane):
    server = control_plane(OAUTH_ACCESS_TOKEN_SECONDS=1)
    user = person_in((make_tenant(), "user"))
    _, tokens = obtain_tokens(server.url, user.username)
    assert tokens["expires_in"] == 1
    time.sleep(1.5)
    assert mcp_status(server.url, tokens["access_token"]) == 401


def test_a_token_is_valid_only_for_the_resource_it_was_minted_for(control_plane):
    """Two deployments on one database: a token minted for one MCP URL is refused by the other."""
    first, second = control_plane(), control_plane()
    user = person_in((make_tenant(), "user"))
    _, tokens = obtain_tokens(first.url, user.username)
    assert _works(first.url, tokens["access_token"])
    assert mcp_status(second.url, tokens["access_token"]) == 401


def test_registration_flood_is_rate_limited(control_plane):
    server = control_plane(OAUTH_REGISTRATIONS_PER_MINUTE=3)
    body = {"client_name": "Flood", "redirect_uris": [REDIRECT_URI]}
    statuses = [httpx2.post(server.url + "/oauth/register", json=body).status_code for _ in range(6)]
    assert statuses[:3] == [201, 201, 201]
    assert set(statuses[3:]) == {429}
    assert OAuthClient.objects.count() == 3
