"""Every OAuth endpoint against every kind of caller. These endpoints are public by design (a client has no
credential before it gets a token), so the rule is: a bearer credential or a staff session changes nothing —
each caller gets exactly what an anonymous caller gets, and a refused request changes nothing."""

from dataclasses import dataclass
from typing import Callable

import httpx2
import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import PBKDF2PasswordHasher

from oauthserver.models import AuthorizationRequest, OAuthClient, OAuthGrant, OAuthToken
from tests.factories import make_key, make_member, make_tenant
from tests.oauth.conftest import REDIRECT_URI, authorization_url, pkce_pair, register_client
from tests.oauth.factories import oauth_tokens

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@dataclass(frozen=True)
class Endpoint:
    name: str
    method: str
    path: Callable[[dict], str]
    ok: int
    body: Callable[[dict], dict] | None = None
    form: Callable[[dict], dict] | None = None


ENDPOINTS = [
    Endpoint("as_metadata", "get", lambda w: "/.well-known/oauth-authorization-server", 200),
    Endpoint("openid_configuration", "get", lambda w: "/.well-known/openid-configuration", 200),
    Endpoint("resource_metadata", "get", lambda w: "/.well-known/oauth-protected-resource/mcp", 200),
    Endpoint("register", "post", lambda w: "/oauth/register", 201,
             body=lambda w: {"client_name": "m", "redirect_uris": [REDIRECT_URI]}),
    Endpoint("authorize", "get", lambda w: w["authorize"], 302),
    Endpoint("token_bad_code", "post", lambda w: "/oauth/token", 400,
             form=lambda w: {"grant_type": "authorization_code", "code": "nope", "code_verifier": "v" * 43,
                             "client_id": w["client_id"], "redirect_uri": REDIRECT_URI}),
    Endpoint("revoke_unknown", "post", lambda w: "/oauth/revoke", 200,
             form=lambda w: {"token": "nope", "client_id": w["client_id"]}),
    Endpoint("consent", "get", lambda w: w["consent"], 302),
    Endpoint("login", "get", lambda w: "/oauth/login/", 200),
]
CALLERS = ("anonymous", "api_key", "oauth_token", "staff_session")


def _snapshot():
    return tuple(
        model.objects.count() for model in (OAuthClient, OAuthGrant, OAuthToken, AuthorizationRequest)
    )


def test_oauth_endpoint_matrix(control_plane):
    server = control_plane(OAUTH_REGISTRATIONS_PER_MINUTE=1000)
    member = make_member(make_tenant(), "admin")
    _, raw_key = make_key(member)
    bearer = oauth_tokens(member, None, resource=server.url + "/mcp").access_token
    staff = get_user_model().objects.create_superuser("root", "root@example.com", None)
    staff.password = PBKDF2PasswordHasher().encode("pw", "testsalt", iterations=1000)  # checkable by the server
    staff.save()
    client_id = register_client(server.url)["client_id"]
    _, challenge = pkce_pair()
    consent = httpx2.get(authorization_url(server.url, client_id, challenge)).headers["location"]
    world = {
        "client_id": client_id,
        "authorize": authorization_url(server.url, client_id, challenge).removeprefix(server.url),
        "consent": consent.removeprefix(server.url),
    }
    with httpx2.Client(base_url=server.url) as staff_browser:
        login = staff_browser.get("/admin/login/")
        staff_browser.post(
            "/admin/login/",
            data={
                "username": staff.username, "password": "pw", "csrfmiddlewaretoken": staff_browser.cookies["csrftoken"]
            },
            headers={"Referer": server.url + "/admin/login/"},
        )
        assert login.status_code == 200
        clients = {
            "anonymous": httpx2.Client(base_url=server.url),
            "api_key": httpx2.Client(base_url=server.url, headers={"Authorization": f"Bearer {raw_key}"}),
            "oauth_token": httpx2.Client(base_url=server.url, headers={"Authorization": f"Bearer {bearer}"}),
            "staff_session": staff_browser,
        }
        for endpoint in ENDPOINTS:
            for caller in CALLERS:
                http = clients[caller]
                before = _snapshot()
                kwargs = {}
                if endpoint.body:
                    kwargs["json"] = endpoint.body(world)
                if endpoint.form:
                    kwargs["data"] = endpoint.form(world)
                response = getattr(http, endpoint.method)(endpoint.path(world), **kwargs)
                expected = endpoint.ok
                if endpoint.name == "consent" and caller == "staff_session":
                    expected = 200  # signed in already: the page itself (staff are people too)
                assert response.status_code == expected, (endpoint.name, caller, response.text[:300])
                assert "Traceback" not in response.text
                if expected >= 400:
                    assert response.json()["error"] and _snapshot() == before, (endpoint.name, caller)
