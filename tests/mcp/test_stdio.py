"""The SDK client against `manage.py runmcp` over stdio, as a desktop assistant would run it."""

import json
import subprocess
import sys
import time

import anyio
import pytest

from mcpbridge.models import McpSession
from tenants.models import AuditEvent, Role
from tenants.services import api_key_revoke, role_update, tenant_limit_set, tenant_suspend
from tests.factories import ACTOR, add_to_org, make_org
from tests.mcp.conftest import ROOT, server_env, stdio_client
from tests.mcp.helpers import ROLE_TOOLS, Notifications, expect_error, in_thread, member_key, tool_names

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("role", ["viewer", "user", "admin"])
def test_tools_list_shows_what_the_role_allows(mcp_db, role):
    _, _, raw = member_key(role)

    async def main():
        async with stdio_client(raw) as client:
            assert await tool_names(client) == ROLE_TOOLS[role]
            whoami = (await client.call_tool("whoami", {})).structured_content
            assert whoami["role"] == role and whoami["context"] == "personal"

    anyio.run(main)


def test_error_codes(mcp_db):
    membership, _, raw = member_key("viewer")

    async def main():
        async with stdio_client(raw) as client:
            # Hidden tool and unknown tool: the very same answer.
            hidden = await expect_error(client.call_tool("kv_set", {"key": "a", "value": "b"}), -32602)
            unknown = await expect_error(client.call_tool("no_such_tool", {}), -32602)
            assert hidden.message.replace("kv_set", "X") == unknown.message.replace("no_such_tool", "X")
            # Invalid params carry the validation message, naming the argument.
            invalid = await expect_error(client.call_tool("kv_get", {}), -32602)
            assert "key" in invalid.message
            invalid = await expect_error(client.call_tool("kv_get", {"key": "a", "surprise": 1}), -32602)
            assert "surprise" in invalid.message
            # Escaping the namespace is refused with a clear message.
            await expect_error(client.call_tool("kv_get", {"key": "../other"}), -32602)
            # Context not allowed: a tenant error.
            error = await expect_error(client.call_tool("context_switch", {"org": "not-mine"}), -32002)
            assert "not-mine" in error.message
            # A missing item is a tool result the model can read, not a protocol error.
            missing = await client.call_tool("kv_get", {"key": "absent"})
            assert missing.is_error

    anyio.run(main)


def test_rate_limit_answers_32001_with_retry_after(mcp_db):
    membership, _, raw = member_key("user")
    tenant_limit_set(tenant=membership.tenant, limit="requests_per_minute", value=3, actor=ACTOR)

    async def main():
        async with stdio_client(raw) as client:
            for _ in range(3):
                await client.call_tool("whoami", {})
            error = await expect_error(client.call_tool("whoami", {}), -32001)
            assert error.data["limit"] == "requests_per_minute"
            assert 0 < error.data["retry_after_ms"] <= 60_000

    anyio.run(main)
    assert AuditEvent.objects.filter(tenant=membership.tenant, outcome="rate_limited").exists()


def test_backend_failure_is_32003_with_a_safe_message(mcp_db):
    _, _, raw = member_key("user")
    closed_port = "http://127.0.0.1:9"  # discard port: nothing listens, the connection is refused

    async def main():
        async with stdio_client(
            raw,
            DATAPLANE_BACKEND="aws",
            AWS_ENDPOINT_URL=closed_port,
            AWS_ACCESS_KEY_ID="test",
            AWS_SECRET_ACCESS_KEY="test",
            AWS_MAX_ATTEMPTS="1",
            AWS_CONNECT_TIMEOUT="1",
        ) as client:
            error = await expect_error(client.call_tool("kv_get", {"key": "a"}), -32003)
            assert "127.0.0.1" not in error.message and "botocore" not in error.message.lower()

    anyio.run(main)


def test_two_tenants_and_two_contexts_never_see_each_others_data(mcp_db):
    membership_a, _, raw_a = member_key("user")
    _, _, raw_b = member_key("user")
    org = make_org(membership_a.tenant, slug="team")
    add_to_org(org, membership_a, "user")

    async def main():
        async with stdio_client(raw_a) as a, stdio_client(raw_b) as b:
            await a.call_tool("kv_set", {"key": "shared-name", "value": "tenant A personal"})
            await b.call_tool("kv_set", {"key": "shared-name", "value": "tenant B personal"})
            switched = (await a.call_tool("context_switch", {"org": "team"})).structured_content
            assert switched["context"] == "org:team"
            assert (await a.call_tool("kv_get", {"key": "shared-name"})).is_error  # the org space is empty
            await a.call_tool("kv_set", {"key": "shared-name", "value": "team A"})
            assert (await a.call_tool("kv_get", {"key": "shared-name"})).structured_content["value"] == "team A"
            await a.call_tool("context_switch", {})
            assert (await a.call_tool("kv_get", {"key": "shared-name"})).structured_content["value"] == "tenant A personal"
            assert (await b.call_tool("kv_get", {"key": "shared-name"})).structured_content["value"] == "tenant B personal"
            listed = (await b.call_tool("kv_list", {})).structured_content["items"]
            assert [item["key"] for item in listed] == ["shared-name"]
            await expect_error(b.call_tool("context_switch", {"org": "team"}), -32002)

    anyio.run(main)


def test_revoked_key_is_refused_on_the_very_next_call(mcp_db):
    _, key, raw = member_key("user")

    async def main():
        async with stdio_client(raw) as client:
            await client.call_tool("whoami", {})
            await in_thread(api_key_revoke, api_key=key, actor=ACTOR)
            error = await expect_error(client.call_tool("whoami", {}), -32000)
            assert error.data["reason"] == "revoked_key"

    anyio.run(main)
    assert AuditEvent.objects.filter(action="auth_failure", actor=f"key:{key.prefix}").exists()


def test_suspended_tenant_is_refused_on_the_very_next_call(mcp_db):
    membership, _, raw = member_key("user")

    async def main():
        async with stdio_client(raw) as client:
            await client.call_tool("whoami", {})
            await in_thread(tenant_suspend, tenant=membership.tenant, actor=ACTOR)
            error = await expect_error(client.call_tool("whoami", {}), -32002)
            assert error.data["reason"] == "tenant_suspended"
            await expect_error(client.list_tools(), -32002)

    anyio.run(main)


def test_role_edit_sends_list_changed_within_two_seconds(mcp_db):
    role = Role.objects.create(slug="reader", name="Reader", capabilities=["kv.read"])
    _, _, raw = member_key("reader")
    notifications = Notifications()

    async def main():
        async with stdio_client(raw, message_handler=notifications) as client:
            assert "kv_set" not in await tool_names(client)
            changed_at = time.monotonic()
            await in_thread(role_update, role=role, capabilities=["kv.read", "kv.write"], actor=ACTOR)
            with anyio.fail_after(2):
                await notifications.arrived.wait()
            assert notifications.seen[-1][1] - changed_at < 2
            assert "kv_set" in await tool_names(client)
            await client.call_tool("kv_set", {"key": "k", "value": "v"})

    anyio.run(main)


def test_session_is_recorded_and_admin_revocation_ends_it(mcp_db):
    from mcpbridge.services.sessions import mcp_session_revoke

    _, key, raw = member_key("user")

    async def main():
        async with stdio_client(raw) as client:
            await client.call_tool("whoami", {})
            session = await in_thread(McpSession.objects.get, api_key_id=key.pk)
            assert session.transport == "stdio" and session.ended_at is None
            assert session.client_name == "mcp" and session.protocol_version
            await in_thread(mcp_session_revoke, session=session, actor=ACTOR)
            started = time.monotonic()
            with pytest.raises(Exception):
                with anyio.fail_after(5):
                    while True:
                        await client.call_tool("whoami", {})
                        await anyio.sleep(0.1)
            assert time.monotonic() - started < 2

    anyio.run(main)


def test_max_sessions_per_tenant(mcp_db):
    membership, _, raw = member_key("user")
    tenant_limit_set(tenant=membership.tenant, limit="max_mcp_sessions", value=1, actor=ACTOR)

    async def main():
        async with stdio_client(raw) as first:
            await first.call_tool("whoami", {})
            with pytest.raises(Exception) as info:
                async with stdio_client(raw):
                    pass
            assert "-32002" in repr(info.value) or "MCP sessions" in repr(info.value)

    anyio.run(main)


def test_stateless_protocol_keeps_context_on_the_principal(mcp_db):
    membership, _, raw = member_key("user")
    add_to_org(make_org(membership.tenant, slug="crew"), membership, "viewer")

    async def main():
        async with stdio_client(raw, mode="auto") as client:
            assert client.protocol_version == "2026-07-28"
            await client.call_tool("context_switch", {"org": "crew"})
            whoami = (await client.call_tool("whoami", {})).structured_content
            assert whoami["context"] == "org:crew" and whoami["role"] == "viewer"
            assert "kv_set" not in await tool_names(client)  # the org role applies

    anyio.run(main)


def test_stdin_eof_answers_the_call_in_flight_and_exits_within_five_seconds(mcp_db):
    _, _, raw = member_key("user")
    process = subprocess.Popen(
        [sys.executable, "manage.py", "runmcp"],
        cwd=ROOT,
        env=server_env(CONTROLPLANE_API_KEY=raw),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    send = lambda message: process.stdin.write(json.dumps({"jsonrpc": "2.0", **message}) + "\n")  # noqa: E731
    send({"id": 1, "method": "initialize", "params": {"protocolVersion": "2025-11-25", "capabilities": {},
                                                       "clientInfo": {"name": "raw", "version": "1"}}})
    process.stdin.flush()
    assert json.loads(process.stdout.readline())["id"] == 1
    send({"method": "notifications/initialized"})
    send({"id": 2, "method": "tools/call", "params": {"name": "diagnostics_sleep", "arguments": {"seconds": 1.5}}})
    process.stdin.flush()
    time.sleep(0.3)  # the call is running
    closed_at = time.monotonic()
    process.stdin.close()
    answer = json.loads(process.stdout.readline())
    assert answer["id"] == 2 and answer["result"]["structuredContent"] == {"slept": 1.5}
    process.wait(timeout=10)
    assert time.monotonic() - closed_at < 5
    assert process.stdout.read() == ""  # nothing but protocol on stdout


class RawStdio:
    """`manage.py runmcp` driven line by line, as a client that writes whatever it likes would."""

    def __init__(self, raw_key: str):
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "runmcp"],
            cwd=ROOT,
            env=server_env(CONTROLPLANE_API_KEY=raw_key),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        self.send({"id": 1, "method": "initialize", "params": {"protocolVersion": "2025-11-25", "capabilities": {},
                                                                "clientInfo": {"name": "raw", "version": "1"}}})
        assert self.answer()["id"] == 1
        self.send({"method": "notifications/initialized"})

    def send(self, message: dict) -> None:
        self.line(json.dumps({"jsonrpc": "2.0", **message}))

    def line(self, text: str) -> None:
        self.process.stdin.write(text + "\n")
        self.process.stdin.flush()

    def answer(self) -> dict:
        line = self.process.stdout.readline()
        assert line, "the server closed stdout without answering"
        return json.loads(line)

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


_DEEP = "[" * 250 + "]" * 250


@pytest.mark.parametrize(
    ("line", "code", "answer_id"),
    [
        ('{"jsonrpc": "2.0", "id": 5, "method": "tools/call", "params": {"name": ', -32700, None),
        ("not json at all", -32700, None),
        ('{"jsonrpc": "2.0", "id": 6, "method": "tools/call", "params": {"name": "kv_get", "arguments": {"key": '
         + _DEEP + "}}}", -32700, 6),
        ('{"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": {"name": "kv_get", "arguments": {"key": "\\ud800"}}}',
         -32700, 7),
        ('{"jsonrpc": "2.0", "id": 8, "method": "tools/call", "params": "kv_get"}', -32600, 8),
        ("[1, 2]", -32600, None),
        ('{"jsonrpc": "2.0", "id": "\\ud800", "method": "ping", "params": []}', -32700, None),
    ],
    ids=["truncated", "not-json", "nested-250", "lone-surrogate", "params-not-object", "batch-of-numbers", "surrogate-id"],
)
def test_bad_input_gets_a_json_rpc_error_and_the_server_keeps_serving(mcp_db, line, code, answer_id):
    _, _, raw = member_key("user")
    client = RawStdio(raw)
    try:
        client.line(line)
        answer = client.answer()
        assert answer["error"]["code"] == code and answer["id"] == answer_id, answer
        assert "Traceback" not in answer["error"]["message"]
        client.send({"id": 2, "method": "tools/call", "params": {"name": "whoami", "arguments": {}}})
        assert client.answer()["result"]["structuredContent"]["role"] == "user"
    finally:
        client.close()


def test_wrongly_typed_params_get_invalid_params(mcp_db):
    _, _, raw = member_key("user")
    client = RawStdio(raw)
    try:
        client.send({"id": 3, "method": "tools/call", "params": {"name": 5}})
        answer = client.answer()
        assert answer["id"] == 3 and answer["error"]["code"] == -32602, answer
        client.send({"id": 4, "method": "ping"})
        assert client.answer() == {"jsonrpc": "2.0", "id": 4, "result": {}}
    finally:
        client.close()


def test_a_call_still_running_when_the_drain_runs_out_is_answered_and_the_process_exits_within_five_seconds(mcp_db):
    _, _, raw = member_key("user")
    client = RawStdio(raw)
    try:
        client.send({"id": 2, "method": "tools/call", "params": {"name": "diagnostics_sleep", "arguments": {"seconds": 9}}})
        client.send({"id": 3, "method": "tools/call", "params": {"name": "diagnostics_sleep", "arguments": {"seconds": 0.5}}})
        time.sleep(0.3)  # both calls are running
        closed_at = time.monotonic()
        client.process.stdin.close()
        answers = {answer["id"]: answer for answer in (client.answer(), client.answer())}
        assert answers[3]["result"]["structuredContent"] == {"slept": 0.5}
        assert answers[2]["error"]["code"] == -32003
        assert "shutting down" in answers[2]["error"]["message"]
        client.process.wait(timeout=10)
        assert time.monotonic() - closed_at < 5
        assert client.process.stdout.read() == ""  # nothing else on stdout
    finally:
        client.close()
