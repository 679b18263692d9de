"""Copy-ready configurations for connecting an MCP client with one API key: stdio for a desktop assistant,
Streamable HTTP with the bearer header, and the MCP Inspector's command line.

Given the raw key (only on the one-time page after issuing) they carry it; otherwise a placeholder naming the
key's prefix stands where the key goes."""

import json
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.utils.text import slugify

INSPECTOR_PACKAGE = "@modelcontextprotocol/inspector"


@dataclass(frozen=True)
class ClientConfig:
    slug: str
    title: str
    hint: str
    text: str


def key_placeholder(prefix: str) -> str:
    return f"<API key {prefix}…>"


def mcp_url() -> str:
    return settings.MCP_PUBLIC_URL.rstrip("/") + "/mcp"


def client_configs(*, prefix: str, tenant_slug: str, raw_key: str | None = None) -> list[ClientConfig]:
    key = raw_key or key_placeholder(prefix)
    name = slugify(f"controlplane-{tenant_slug}")
    manage_py = str(Path(settings.BASE_DIR) / "manage.py")
    env_name = settings.MCP_API_KEY_ENV
    stdio = {"mcpServers": {name: {"command": sys.executable, "args": [manage_py, "runmcp"], "env": {env_name: key}}}}
    http = {"mcpServers": {name: {"type": "http", "url": mcp_url(), "headers": {"Authorization": f"Bearer {key}"}}}}
    inspector = [
        "npx", INSPECTOR_PACKAGE, "--cli", mcp_url(), "--transport", "http",
        "--header", f"Authorization: Bearer {key}", "--method", "tools/list",
    ]
    return [
        ClientConfig(
            "stdio", "Desktop assistant (stdio)",
            "Add to the assistant's MCP servers file (for example claude_desktop_config.json). It starts "
            "manage.py runmcp of this checkout, which needs the same database settings as this server.",
            json.dumps(stdio, indent=2, ensure_ascii=False),
        ),
        ClientConfig(
            "http", "Streamable HTTP",
            f"URL {mcp_url()} with the header Authorization: Bearer <key>, for clients that take a remote server.",
            json.dumps(http, indent=2, ensure_ascii=False),
        ),
        ClientConfig(
            "inspector", "MCP Inspector (command line)",
            "Lists the tools this key may call; replace --method tools/list to call one.",
            shlex.join(inspector),
        ),
    ]
