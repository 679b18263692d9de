"""The per-address window of new MCP sessions counts an IPv6 client by its /64: one host owns a whole /64, so a
window per IPv6 address would let it open sessions from fresh addresses without end."""

import secrets

import anyio
from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from mcp.server.auth.provider import AccessToken

from mcpbridge.transports.admission import SessionAdmission


async def _opened(request):
    pass


def _status(admission: SessionAdmission, address: str, key: str) -> int:
    sent = []
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/mcp",
        "headers": [(b"content-type", b"application/json")],
        "client": (address, 50000),
        "user": AuthenticatedUser(AccessToken(token=key, client_id=key, scopes=[])),
    }

    async def receive():
        return {"type": "http.request", "body": b"{}", "more_body": False}

    async def send(message):
        sent.append(message)

    async def app(scope, receive, send):
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    admission.app = app
    anyio.run(admission, scope, receive, send)
    return sent[0]["status"]


def test_addresses_of_one_ipv6_64_share_one_window():
    admission = SessionAdmission(None, per_key=1000, per_address=3)
    subnet = "2001:db8:" + ":".join(secrets.token_hex(2) for _ in range(2))
    # Every request from a fresh address and with a fresh key, as a host spreading a flood would send them.
    statuses = [_status(admission, f"{subnet}::{i + 1:x}", f"key-{i}") for i in range(5)]
    assert statuses == [200, 200, 200, 429, 429]
    assert _status(admission, "2001:db8:ffff:1::1", "key-other") == 200
    assert [_status(admission, f"192.0.2.{i}", f"k4-{i}") for i in range(1, 5)] == [200] * 4
