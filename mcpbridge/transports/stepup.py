"""Step-up authorization on /mcp: a tools/call that needs a capability the OAuth token lacks, but the person's
role in the current context grants, is answered 403 insufficient_scope naming the scopes to ask for, so the
client can send the person back to the consent page. Everything else passes through untouched. Run by the gate
(gate.py), which asks `inspects` first: only POSTs to /mcp with an OAuth access token are read here."""

import json
from functools import partial

from anyio import to_thread
from starlette.types import Message, Receive, Scope, Send

from mcpbridge.server.callers import ContextStore
from oauthserver.policy import is_oauth_access_token, resolve_oauth_token
from tenants.decisions.tools import tool_capabilities
from tenants.policy import ContextNotAllowed, Principal, ResolutionError

_MAX_INSPECTED_BODY = 1 << 20


def missing_scope(principal: Principal, tool: str) -> str | None:
    """The capability `tool` needs that the token's scope lacks while the role in this context has it."""
    capability = tool_capabilities().get(tool)
    if capability is None or principal.can(capability):
        return None
    grant = principal.find_org(principal.context.org_id) if principal.context.kind == "org" else None
    role_capabilities = grant.role_capabilities if grant else principal.role_capabilities
    return capability if capability in role_capabilities else None


class StepUpChallenge:
    """Run by the gate (gate.py) for the requests it `inspects`: POSTs to /mcp with an OAuth access token."""

    def __init__(self, *, path: str, resource: str, resource_metadata_url: str):
        self.path, self.resource, self.metadata_url = path, resource, resource_metadata_url

    def inspects(self, scope: Scope) -> bool:
        return scope["method"] == "POST" and scope["path"] == self.path and is_oauth_access_token(_bearer(scope))

    async def screen(self, scope: Scope, receive: Receive, send: Send) -> Receive | None:
        """None when the request was answered 403 here; else the receive that replays its body to the app."""
        messages, body = await _read_body(receive)
        tool = _called_tool(body)
        if tool is not None:
            token = _bearer(scope)
            scopes = await to_thread.run_sync(partial(self._challenge, token, tool))
            if scopes is not None:
                await self._forbidden(send, scopes)
                return None
        return _replay(messages, receive)

    def _challenge(self, token: str, tool: str) -> str | None:
        try:
            principal = ContextStore().apply(resolve_oauth_token(token, resource=self.resource), strict=False)
        except (ResolutionError, ContextNotAllowed):
            return None  # the bearer check and the pipeline answer these
        capability = missing_scope(principal, tool)
        if capability is None:
            return None
        return " ".join(sorted({*principal.key_scope, capability}))

    async def _forbidden(self, send: Send, scopes: str) -> None:
        body = json.dumps(
            {"error": "insufficient_scope", "error_description": f"This call needs the scopes {scopes}."}
        ).encode()
        challenge = f'Bearer error="insufficient_scope", scope="{scopes}", resource_metadata="{self.metadata_url}"'
        await send(
            {
                "type": "http.response.start",
                "status": 403,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"www-authenticate", challenge.encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def _bearer(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == b"authorization":
            parts = value.decode("latin-1").split(" ", 1)
            return parts[1].strip() if len(parts) == 2 and parts[0].lower() == "bearer" else None
    return None


async def _read_body(receive: Receive) -> tuple[list[Message], bytes | None]:
    """The request's messages so far, and its body when it is complete and small enough to inspect."""
    messages, size = [], 0
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            return messages, None
        size += len(message.get("body", b""))
        if size > _MAX_INSPECTED_BODY:
            return messages, None
        if not message.get("more_body"):
            return messages, b"".join(m.get("body", b"") for m in messages)


def _replay(messages: list[Message], receive: Receive) -> Receive:
    pending = list(messages)

    async def replayed() -> Message:
        return pending.pop(0) if pending else await receive()

    return replayed


def _called_tool(body: bytes | None) -> str | None:
    try:
        request = json.loads(body) if body else None
    except ValueError:
        return None
    if not isinstance(request, dict) or request.get("method") != "tools/call":
        return None
    params = request.get("params")
    name = params.get("name") if isinstance(params, dict) else None
    return name if isinstance(name, str) else None
