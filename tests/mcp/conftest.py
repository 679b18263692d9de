"""Real servers for the MCP tests: `manage.py runmcp` subprocesses (stdio and HTTP) on the test database."""

import importlib
import os
import re
import signal
import subprocess
import sys
import threading
import time
from contextlib import asynccontextmanager
from pathlib import Path

import httpx2
import pytest
from django.apps import apps
from django.conf import settings
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

ROOT = Path(__file__).resolve().parents[2]
# A Redis database of this test run's own (claimed by tests/isolation.py).
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
_LISTENING = re.compile(r"listening on (http://\S+)/mcp")


def database_url() -> str:
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def server_env(**extra) -> dict:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "controlplane.settings",
        "DATABASE_URL": database_url(),
        "API_KEY_HMAC_KEY": settings.API_KEY_HMAC_KEY,
        "DJANGO_SECRET_KEY": settings.SECRET_KEY,
        "MCP_DIAGNOSTIC_TOOLS": "1",
        "MCP_WATCH_INTERVAL_SECONDS": "0.2",
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("REDIS_URL", None)
    env.pop("CONTROLPLANE_API_KEY", None)
    env.update({k: str(v) for k, v in extra.items()})
    return env


@pytest.fixture
def mcp_db(transactional_db):
    """Subprocess servers only see committed rows; a flush between tests also drops the seeded roles and plans."""
    importlib.import_module("tenants.migrations.0002_builtin_roles_and_plans").seed(apps, None)


def stdio_params(raw_key: str, **env) -> StdioServerParameters:
    return StdioServerParameters(
        command=sys.executable,
        args=["manage.py", "runmcp"],
        env=server_env(CONTROLPLANE_API_KEY=raw_key, **env),
        cwd=str(ROOT),
    )


@asynccontextmanager
async def stdio_client(raw_key: str, *, mode: str = "legacy", message_handler=None, **env):
    async with Client(
        stdio_params(raw_key, **env), mode=mode, cache=None, message_handler=message_handler, read_timeout_seconds=30
    ) as client:
        yield client


@asynccontextmanager
async def http_client(base_url: str, raw_key: str | None, *, mode: str = "legacy", message_handler=None):
    headers = {"Authorization": f"Bearer {raw_key}"} if raw_key else {}
    async with httpx2.AsyncClient(headers=headers, timeout=30) as http:
        transport = streamable_http_client(f"{base_url}/mcp", http_client=http)
        async with Client(
            transport, mode=mode, cache=None, message_handler=message_handler, read_timeout_seconds=30
        ) as client:
            yield client


class HttpServer:
    """`manage.py runmcp --transport http --port 0` in a subprocess; the bound port is read from its log."""

    def __init__(self, **env):
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "runmcp", "--transport", "http", "--host", "127.0.0.1", "--port", "0"],
            cwd=ROOT,
            env=server_env(**env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.log: list[str] = []
        found = threading.Event()
        self.url = None

        def read():
            for line in self.process.stderr:
                self.log.append(line)
                match = _LISTENING.search(line)
                if match and not found.is_set():
                    self.url = match.group(1)
                    found.set()
            found.set()

        threading.Thread(target=read, daemon=True).start()
        found.wait(60)
        if self.url is None:
            self.stop()
            raise RuntimeError("runmcp http did not start:\n" + "".join(self.log))
        self._wait_ready()

    def _wait_ready(self):
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                httpx2.get(self.url + "/.well-known/oauth-protected-resource/mcp", timeout=2)
                return
            except httpx2.TransportError:
                time.sleep(0.1)
        raise RuntimeError("runmcp http is not answering:\n" + "".join(self.log))

    def stop(self, timeout: float = 15) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


@pytest.fixture
def http_server_factory():
    servers = []

    def start(**env) -> HttpServer:
        server = HttpServer(**env)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()
