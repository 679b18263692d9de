"""The whole control plane (Django + /mcp + the authorization server) served by uvicorn on the test database,
and an OAuth client that signs in and consents like a person would, without a browser."""

import base64
import hashlib
import re
import secrets
import socket
import subprocess
import sys
import time
from contextlib import asynccontextmanager
from urllib.parse import parse_qs, urlencode, urlparse

import anyio
import httpx2
from django.contrib.auth.hashers import PBKDF2PasswordHasher
import pytest
from mcp import Client
from mcp.client.auth import OAuthClientProvider
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import AuthorizationCodeResult, OAuthClientInformationFull, OAuthClientMetadata, OAuthToken

from tests.factories import ACTOR, make_user
from tests.mcp.conftest import ROOT, mcp_db, server_env  # noqa: F401  (mcp_db is a fixture)
from tenants.models import Role
from tenants.services import membership_add

PASSWORD = "correct horse battery staple"
REDIRECT_URI = "http://127.0.0.1:9/callback"
# A row of the consent page's table: radio value (the choice key), tenant label, context label.
_CONSENT_ROW = re.compile(
    r'value="([^"]+)" id="choice-\d+"[^>]*>\s*</td>\s*<td><label[^>]*>([^<]+)</label></td>\s*<td>([^<]+)</td>'
)


def person_in(*tenants_and_roles):
    """A user who can sign in, member of each (tenant, role)."""
    user = make_user()
    # The server subprocess runs with the default hashers (the tests' MD5 is not among them); few iterations.
    user.password = PBKDF2PasswordHasher().encode(PASSWORD, "testsalt", iterations=1000)
    user.save()
    for tenant, role in tenants_and_roles:
        membership_add(tenant=tenant, user=user, role=Role.objects.get(slug=role), actor=ACTOR)
    return user


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ControlPlane:
    """`uvicorn controlplane.asgi:application` on a loopback port, MCP_PUBLIC_URL pointing at it."""

    def __init__(self, **env):
        port = _free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "controlplane.asgi:application", "--host", "127.0.0.1",
             "--port", str(port)],
            cwd=ROOT,
            env=server_env(MCP_PUBLIC_URL=self.url, **env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("uvicorn exited:\n" + self.process.stderr.read())
            try:
                httpx2.get(self.url + "/healthz", timeout=2)
                return
            except httpx2.TransportError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("uvicorn did not answer")

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture
def control_plane(mcp_db):
    servers = []

    def start(**env) -> ControlPlane:
        server = ControlPlane(**env)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


def _csrf(http: httpx2.AsyncClient) -> str:
    return http.cookies.get("csrftoken")


async def sign_in_and_consent(
    authorization_url: str, *, username: str, tenant: str | None = None, context: str = "personal", allow: bool = True
) -> str:
    """What a person does in the browser: follow the authorization URL, sign in, pick the row of `tenant` and
    `context` on the consent page, allow (or deny). Returns the URL the client is sent back to."""
    async with httpx2.AsyncClient(timeout=30) as http:
        response = await http.get(authorization_url)
        assert response.status_code == 302, response.text
        consent_url = response.headers["location"]
        response = await http.get(consent_url)
        assert response.status_code == 302 and "/oauth/login/" in response.headers["location"]
        login_url = str(response.url.join(response.headers["location"]))
        await http.get(login_url)
        response = await http.post(
            login_url,
            data={
                "username": username,
                "password": PASSWORD,
                "next": urlparse(consent_url).path,
                "csrfmiddlewaretoken": _csrf(http),
            },
        )
        assert response.status_code == 302, response.text
        page = await http.get(consent_url)
        assert page.status_code == 200, page.text
        data = {"csrfmiddlewaretoken": _csrf(http), "decision": "allow" if allow else "deny"}
        if allow:
            rows = _CONSENT_ROW.findall(page.text)
            chosen = [
                key
                for key, tenant_label, ctx in rows
                if (tenant is None or tenant_label.endswith(f"({tenant})")) and ctx == context
            ]
            assert chosen, f"no consent row for {tenant}/{context} in {rows}"
            data["choice"] = chosen[0]
        response = await http.post(consent_url, data=data)
        assert response.status_code == 302, response.text
        return response.headers["location"]


class MemoryStorage:
    def __init__(self):
        self.tokens: OAuthToken | None = None
        self.client_info: OAuthClientInformationFull | None = None

    async def get_tokens(self):
        return self.tokens

    async def set_tokens(self, tokens):
        self.tokens = tokens

    async def get_client_info(self):
        return self.client_info

    async def set_client_info(self, client_info):
        self.client_info = client_info


class PersonAtTheBrowser:
    """The SDK provider's redirect and callback handlers, answered by sign_in_and_consent."""

    def __init__(self, username: str, tenant: str | None = None, context: str = "personal"):
        self.username, self.tenant, self.context = username, tenant, context
        self.returned_to: str | None = None
        self.authorization_urls: list[str] = []

    async def redirect(self, url: str) -> None:
        self.authorization_urls.append(url)
        self.returned_to = await sign_in_and_consent(
            url, username=self.username, tenant=self.tenant, context=self.context
        )

    async def callback(self) -> AuthorizationCodeResult:
        query = parse_qs(urlparse(self.returned_to).query)
        return AuthorizationCodeResult(code=query["code"][0], state=query.get("state", [None])[0])


def oauth_provider(server_url: str, person: PersonAtTheBrowser, storage: MemoryStorage | None = None, **kwargs):
    return OAuthClientProvider(
        server_url=server_url + "/mcp",
        client_metadata=OAuthClientMetadata(client_name="Test assistant", redirect_uris=[REDIRECT_URI]),
        storage=storage or MemoryStorage(),
        redirect_handler=person.redirect,
        callback_handler=person.callback,
        **kwargs,
    )


@asynccontextmanager
async def oauth_mcp_client(server_url: str, auth: OAuthClientProvider, *, mode: str = "legacy", message_handler=None):
    async with httpx2.AsyncClient(auth=auth, timeout=30) as http:
        transport = streamable_http_client(f"{server_url}/mcp", http_client=http)
        async with Client(
            transport, mode=mode, cache=None, message_handler=message_handler, read_timeout_seconds=30
        ) as client:
            yield client


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    return verifier, challenge


def register_client(server_url: str, **metadata) -> dict:
    body = {"client_name": "Raw client", "redirect_uris": [REDIRECT_URI], **metadata}
    response = httpx2.post(server_url + "/oauth/register", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def authorization_url(server_url: str, client_id: str, challenge: str | None, **overrides) -> str:
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": REDIRECT_URI,
        "state": "st4te",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "resource": server_url + "/mcp",
        "scope": "kv.read kv.write",
        **overrides,
    }
    return server_url + "/oauth/authorize?" + urlencode({k: v for k, v in params.items() if v is not None})


def obtain_tokens(server_url: str, username: str, tenant: str | None = None, **overrides) -> tuple[dict, dict]:
    """Register, sign in, consent and redeem the code as a raw client. Returns (client, token response)."""
    client = register_client(server_url)
    verifier, challenge = pkce_pair()
    returned = anyio.run(
        lambda: sign_in_and_consent(
            authorization_url(server_url, client["client_id"], challenge, **overrides), username=username, tenant=tenant
        )
    )
    code = parse_qs(urlparse(returned).query)["code"][0]
    response = token_request(
        server_url, grant_type="authorization_code", code=code, code_verifier=verifier, client_id=client["client_id"]
    )
    assert response.status_code == 200, response.text
    return client, response.json()


def token_request(server_url: str, **data) -> httpx2.Response:
    if data.get("grant_type") == "authorization_code":
        data.setdefault("redirect_uri", REDIRECT_URI)
    return httpx2.post(server_url + "/oauth/token", data=data)


def mcp_status(server_url: str, access_token: str) -> int:
    """The HTTP status of a tools/list on /mcp with this bearer token."""
    response = httpx2.post(
        server_url + "/mcp",
        json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
        headers={
            "Authorization": f"Bearer {access_token}",
            "Accept": "application/json, text/event-stream",
            "Content-Type": "application/json",
            "MCP-Protocol-Version": "2025-11-25",
        },
    )
    return response.status_code
