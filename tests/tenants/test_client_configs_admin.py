"""Connect a client: copy-ready configurations on the one-time page (with the key) and on the key's page (without)."""

import html
import json
import re
import shlex
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.urls import reverse

from tenants.services import Actor, api_key_revoke
from tests.factories import make_key, make_member, make_tenant

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client):
    client.force_login(get_user_model().objects.create_superuser("root", "root@example.com", "pw"))


def configs_on(page: str) -> dict[str, str]:
    found = re.findall(r'<div class="client-config" data-config="(\w+)">.*?<pre id="[^"]+">(.*?)</pre>', page, re.S)
    return {slug: html.unescape(text) for slug, text in found}


def test_the_key_page_shows_configurations_with_a_placeholder(client, staff, settings):
    settings.MCP_PUBLIC_URL = "https://mcp.example.com/"
    key, raw = make_key(make_member(make_tenant("acme")))
    page = client.get(reverse("admin:tenants_apikey_change", args=[key.pk])).content.decode()
    assert raw not in page
    configs = configs_on(page)
    assert set(configs) == {"stdio", "http", "inspector"}
    placeholder = f"<API key {key.prefix}…>"
    stdio = json.loads(configs["stdio"])["mcpServers"]["controlplane-acme"]
    assert stdio == {
        "command": sys.executable,
        "args": [str(Path(settings.BASE_DIR) / "manage.py"), "runmcp"],
        "env": {"CONTROLPLANE_API_KEY": placeholder},
    }
    http = json.loads(configs["http"])["mcpServers"]["controlplane-acme"]
    assert http == {"type": "http", "url": "https://mcp.example.com/mcp",
                    "headers": {"Authorization": f"Bearer {placeholder}"}}
    assert shlex.split(configs["inspector"]) == [
        "npx", "@modelcontextprotocol/inspector", "--cli", "https://mcp.example.com/mcp", "--transport", "http",
        "--header", f"Authorization: Bearer {placeholder}", "--method", "tools/list",
    ]
    assert 'src="/static/tenants/copy.js"' in page and page.count('data-copy-target="client-config-') == 3


def test_the_one_time_page_puts_the_raw_key_in_every_configuration(client, staff):
    member = make_member(make_tenant("acme"))
    posted = client.post(
        reverse("admin:tenants_apikey_add"), {"membership": member.pk, "name": "laptop", "scope_mode": "role"}
    )
    page = client.get(posted["Location"]).content.decode()
    raw = re.search(r'<code class="raw-api-key">([^<]+)</code>', page).group(1)
    configs = configs_on(page)
    assert json.loads(configs["stdio"])["mcpServers"]["controlplane-acme"]["env"] == {"CONTROLPLANE_API_KEY": raw}
    assert json.loads(configs["http"])["mcpServers"]["controlplane-acme"]["headers"] == {
        "Authorization": f"Bearer {raw}"
    }
    assert f"Authorization: Bearer {raw}" in shlex.split(configs["inspector"])
    # Shown once: the reload has neither the key nor configurations carrying it.
    reload = client.get(posted["Location"]).content.decode()
    assert raw not in reload and not configs_on(reload)


def test_a_revoked_key_offers_no_configuration(client, staff):
    key, _ = make_key(make_member(make_tenant()))
    api_key_revoke(api_key=key, actor=Actor("test"), reason="gone")
    page = client.get(reverse("admin:tenants_apikey_change", args=[key.pk])).content.decode()
    assert not configs_on(page)
