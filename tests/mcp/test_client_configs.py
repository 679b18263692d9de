"""The stdio configuration the admin offers for a key starts a working MCP server, from any directory."""

import json
import re

import anyio
import pytest
from django.contrib.auth import get_user_model
from django.test import Client as DjangoClient
from django.urls import reverse
from mcp import Client, StdioServerParameters

from tests.factories import make_member, make_tenant
from tests.mcp.conftest import server_env


@pytest.mark.slow
def test_the_copied_stdio_configuration_connects(mcp_db, tmp_path):
    browser = DjangoClient()
    browser.force_login(get_user_model().objects.create_superuser("root", "root@example.com", "pw"))
    member = make_member(make_tenant("acme"), role="viewer")
    posted = browser.post(
        reverse("admin:tenants_apikey_add"), {"membership": member.pk, "name": "desktop", "scope_mode": "role"}
    )
    page = browser.get(posted["Location"]).content.decode()
    stdio_text = re.search(r'data-config="stdio">.*?<pre id="[^"]+">(.*?)</pre>', page, re.S).group(1)
    config = json.loads(stdio_text.replace("&quot;", '"'))["mcpServers"]["controlplane-acme"]
    # The database and secrets of this test run, plus exactly the config's own env (the key).
    params = StdioServerParameters(
        command=config["command"], args=config["args"], env=server_env(**config["env"]), cwd=str(tmp_path)
    )

    async def scenario():
        async with Client(params, cache=None, read_timeout_seconds=30) as client:
            tools = {tool.name for tool in (await client.list_tools()).tools}
            who = await client.call_tool("whoami", {})
        return tools, who

    tools, who = anyio.run(scenario)
    assert "kv_get" in tools and "kv_set" not in tools
    assert who.structured_content["tenant"]["slug"] == "acme"
