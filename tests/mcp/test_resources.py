"""Artifacts as MCP resources, with the SDK client against real `manage.py runmcp` servers (stdio and HTTP)."""

import base64

import anyio
import pytest

from tenants.models import AuditEvent, Role
from tenants.services import api_key_revoke, tenant_limit_set
from tests.factories import ACTOR, add_to_org, make_org
from tests.mcp.conftest import http_client, stdio_client
from tests.mcp.helpers import expect_error, in_thread, member_key

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

PNG = bytes(range(256))


async def uris(client, cursor=None) -> list[str]:
    return [str(resource.uri) for resource in (await client.list_resources(cursor=cursor)).resources]


def test_artifacts_of_the_current_context_are_listed_and_read_as_resources(mcp_db):
    membership, _, raw = member_key("user")
    add_to_org(make_org(membership.tenant, slug="lab"), membership, "user")
    _, _, raw_other = member_key("admin")

    async def main():
        async with stdio_client(raw) as client, stdio_client(raw_other) as other:
            await client.call_tool(
                "artifacts_put", {"name": "notes/a b.txt", "content": "hello", "content_type": "text/plain"}
            )
            await client.call_tool(
                "artifacts_put",
                {"name": "img.png", "content_base64": base64.b64encode(PNG).decode(), "content_type": "image/png"},
            )
            listed = (await client.list_resources()).resources
            assert {(str(r.uri), r.name, r.size) for r in listed} == {
                ("artifact:///notes/a%20b.txt", "notes/a b.txt", 5),
                ("artifact:///img.png", "img.png", 256),
            }
            text = (await client.read_resource("artifact:///notes/a%20b.txt")).contents
            assert len(text) == 1 and text[0].text == "hello" and text[0].mime_type == "text/plain"
            blob = (await client.read_resource("artifact:///img.png")).contents[0]
            assert base64.b64decode(blob.blob) == PNG and blob.mime_type == "image/png"

            # Another tenant reads the same URI in its own namespace: nothing there.
            assert await uris(other) == []
            missing = await expect_error(other.read_resource("artifact:///img.png"), -32602)
            assert missing.message == "Resource not found: artifact:///img.png"
            # After context_switch the resources are the org's, like the tools.
            await client.call_tool("context_switch", {"org": "lab"})
            assert await uris(client) == []
            await expect_error(client.read_resource("artifact:///img.png"), -32602)
            await client.call_tool("context_switch", {})
            assert len(await uris(client)) == 2
            # Other schemes and names escaping the namespace are refused, never read.
            await expect_error(client.read_resource("file:///etc/passwd"), -32602)
            escape = await expect_error(client.read_resource("artifact:///../x"), -32602)
            assert "Traceback" not in escape.message

    anyio.run(main)


def test_resources_are_paginated(mcp_db):
    membership, _, raw = member_key("user")
    for limit in ("requests_per_minute", "s3_requests_per_second"):
        tenant_limit_set(tenant=membership.tenant, limit=limit, value=100_000, actor=ACTOR)

    async def main():
        async with stdio_client(raw) as client:
            for i in range(101):
                await client.call_tool("artifacts_put", {"name": f"f{i:03}", "content": "x", "content_type": "text/plain"})
            first = await client.list_resources()
            assert len(first.resources) == 100 and first.next_cursor
            second = await client.list_resources(cursor=first.next_cursor)
            assert [str(r.uri) for r in second.resources] == ["artifact:///f100"] and second.next_cursor is None

    anyio.run(main)


def test_resources_are_gated_by_artifact_capabilities_rate_limited_and_audited(mcp_db):
    Role.objects.create(slug="getter", name="Getter", capabilities=["artifacts.get"])
    Role.objects.create(slug="kv-only", name="KV only", capabilities=["kv.read"])
    writer, _, raw_writer = member_key("user")
    getter, _, raw_getter = member_key("getter", tenant=writer.tenant)
    _, _, raw_kv = member_key("kv-only", tenant=writer.tenant)
    org = make_org(writer.tenant, slug="shared")
    for membership, role in ((writer, "user"), (getter, "getter")):
        add_to_org(org, membership, role)

    async def main():
        async with stdio_client(raw_writer) as client:
            await client.call_tool("context_switch", {"org": "shared"})
            await client.call_tool("artifacts_put", {"name": "plan.md", "content": "# plan", "content_type": "text/markdown"})
            assert await uris(client) == ["artifact:///plan.md"]
        async with stdio_client(raw_getter) as client:
            await client.call_tool("context_switch", {"org": "shared"})
            # artifacts.get without artifacts.list: may read, sees no list.
            assert await uris(client) == []
            assert (await client.read_resource("artifact:///plan.md")).contents[0].text == "# plan"
            missing = await expect_error(client.read_resource("artifact:///absent.md"), -32602)
        async with stdio_client(raw_kv) as client:
            # Neither: a readable-looking URI gets the very answer of a missing one.
            assert await uris(client) == []
            hidden = await expect_error(client.read_resource("artifact:///plan.md"), -32602)
            absent = await expect_error(client.read_resource("artifact:///absent.md"), -32602)
            assert hidden.message.replace("plan", "X") == absent.message.replace("absent", "X")
            assert (hidden.data, absent.data) == ({"uri": "artifact:///plan.md"}, missing.data)
        await in_thread(tenant_limit_set, tenant=writer.tenant, limit="requests_per_minute", value=3, actor=ACTOR)
        async with stdio_client(raw_getter) as client:
            await client.call_tool("context_switch", {"org": "shared"})
            for _ in range(2):
                await client.read_resource("artifact:///plan.md")
            limited = await expect_error(client.read_resource("artifact:///plan.md"), -32001)
            assert limited.data["retry_after_ms"] > 0

    anyio.run(main)
    audit = AuditEvent.objects.filter(tenant=writer.tenant)
    reads = audit.filter(target="resource:read")
    ok = [event.details for event in reads.filter(outcome="ok")]
    assert len(ok) == 3 and all(d["tool"] == "artifacts_get" and d["context"] == "org:shared" for d in ok)
    assert reads.filter(outcome="denied").count() == 2  # the kv-only key
    assert reads.filter(outcome="invalid").count() == 1  # the artifact that does not exist
    assert reads.filter(outcome="rate_limited").count() == 1
    assert audit.filter(target="resource:list", outcome="ok").count() == 1
    assert audit.filter(target="resource:list", outcome="denied").count() == 2


def test_large_artifacts_read_as_a_download_url(mcp_db):
    _, _, raw = member_key("user")
    content = "z" * 64

    async def main():
        async with stdio_client(raw) as client:
            await client.call_tool("artifacts_put", {"name": "big.txt", "content": content, "content_type": "text/plain"})
        async with stdio_client(raw, ARTIFACT_INLINE_MAX_BYTES="16") as client:
            contents = (await client.read_resource("artifact:///big.txt")).contents[0]
            assert contents.mime_type == "text/uri-list" and contents.text.startswith("http")
            assert contents.meta["size"] == 64 and contents.meta["content_type"] == "text/plain"

    anyio.run(main)


@pytest.mark.parametrize("mode", ["legacy", "auto"])
def test_resources_over_http_in_both_protocol_eras(mcp_db, http_server_factory, mode):
    server = http_server_factory()
    _, key, raw = member_key("user")

    async def main():
        async with http_client(server.url, raw, mode=mode) as client:
            await client.call_tool("artifacts_put", {"name": "r.json", "content": "{}", "content_type": "application/json"})
            assert await uris(client) == ["artifact:///r.json"]
            assert (await client.read_resource("artifact:///r.json")).contents[0].text == "{}"
            await in_thread(api_key_revoke, api_key=key, actor=ACTOR)
            with pytest.raises(BaseException) as info:
                await client.read_resource("artifact:///r.json")
            assert "error response" in repr(info.value) or "401" in repr(info.value)

    anyio.run(main)
