"""Governed calls/s and calls per CPU second for 1, 2 and 4 `controlplane.asgi` replicas behind Debian's nginx
(the README's "Past one machine" recipe, sharing PostgreSQL and Redis), against a bare SDK server behind the same
nginx, measured in one run with a plain HTTP client and with the SDK's client.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres python bench/replicas_throughput.py [--seconds 8] [--clients 16]

Uses a throwaway PostgreSQL database on DATABASE_URL's server (created and dropped here), a Redis database of
its own (claimed like the tests do) and a throwaway directory. CPU seconds are the serving processes' user +
system time from /proc over the measured window (nginx's own CPU is shown apart); the load generator runs on the
same machine and competes for the same cores, so calls/s is a floor and calls per CPU second the figure to compare.
The servers get this environment, so e.g. DATABASE_CONN_MAX_AGE=60 measures them with persistent connections.
"""

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from contextlib import AsyncExitStack
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
import tests.isolation  # noqa: E402,F401  (a throwaway var dir and Redis databases of this run's own)

_BASE_DATABASE_URL = os.environ.get("DATABASE_URL", "")
if not _BASE_DATABASE_URL.startswith("postgres"):
    sys.exit("Set DATABASE_URL to a PostgreSQL server (e.g. postgres://postgres@127.0.0.1:5432/postgres): "
             "several replicas share PostgreSQL. A throwaway database is created there and dropped afterwards.")
_parts = urlsplit(_BASE_DATABASE_URL)
BENCH_DB = f"bench_replicas_{os.getpid()}"
DATABASE_URL = urlunsplit(_parts._replace(path="/" + BENCH_DB))
REDIS_URL = os.environ["TEST_REDIS_URL"]
os.environ.update(DATABASE_URL=DATABASE_URL, REDIS_URL=REDIS_URL, DJANGO_SETTINGS_MODULE="controlplane.settings")

import httpx2  # noqa: E402
import psycopg  # noqa: E402

ADMIN_URL = urlunsplit(_parts._replace(path="/postgres"))
with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
    admin.execute(f'CREATE DATABASE "{BENCH_DB}"')

import django  # noqa: E402

django.setup()
from support import quiet_logs  # noqa: E402

quiet_logs()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from mcp import Client  # noqa: E402
from mcp.client.streamable_http import streamable_http_client  # noqa: E402

from tenants.services import tenant_limit_set  # noqa: E402
from tests.e2e.replicas import Deployment, Nginx, free_port, wait_until_answering  # noqa: E402
from tests.factories import ACTOR, make_key, make_member, make_tenant  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")
HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
CALL = {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "whoami", "arguments": {}}}


def setup_key() -> str:
    call_command("migrate", verbosity=0)
    membership = make_member(make_tenant(), "admin")
    # The bench's clients share one key: lift its own session cap too, or sessions of one client are evicted for
    # another's (least recently used first) and the bench measures reconnects.
    for limit in ("requests_per_minute", "max_concurrent_requests", "max_mcp_sessions", "max_mcp_sessions_per_key"):
        tenant_limit_set(tenant=membership.tenant, limit=limit, value=10_000_000, actor=ACTOR)
    return make_key(membership)[1]


def server_env(work: Path) -> dict:
    return {
        **os.environ,
        "API_KEY_HMAC_KEY": settings.API_KEY_HMAC_KEY,
        "DJANGO_SECRET_KEY": settings.SECRET_KEY,
        "CONTROLPLANE_VAR_DIR": str(work),
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
        # Every client opens its sessions from one key and one address; the bench is not about initialize floods.
        "MCP_INITIALIZE_RATE_PER_MINUTE_PER_KEY": "100000",
        "MCP_INITIALIZE_RATE_PER_MINUTE_PER_ADDRESS": "100000",
    }


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


class Window:
    """Clients connect and warm up first; the measured window opens once all of them are ready."""

    def __init__(self, clients: int):
        self.clients = clients
        self.connected = 0
        self.all_connected = asyncio.Event()
        self.go = asyncio.Event()
        self.stop = 0.0
        self.calls = 0

    async def ready(self) -> None:
        self.connected += 1
        if self.connected == self.clients:
            self.all_connected.set()
        await self.go.wait()

    def counted(self) -> bool:
        """Count a finished call; False once the window has closed."""
        if time.monotonic() >= self.stop:
            return False
        self.calls += 1
        return True


async def plain_client(url: str, raw: str, window: Window) -> None:
    """initialize once, then tools/call whoami over and over, reading each SSE answer (httpx2, no SDK)."""
    async with httpx2.AsyncClient(headers={**HEADERS, "Authorization": f"Bearer {raw}"}, timeout=60) as http:
        init = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "bench"}}}
        response = await http.post(url, json=init)
        headers = {"Mcp-Session-Id": response.headers["mcp-session-id"], "MCP-Protocol-Version": "2025-11-25"}
        await http.post(url, json={"jsonrpc": "2.0", "method": "notifications/initialized"}, headers=headers)

        async def call() -> None:
            body = (await http.post(url, json=CALL, headers=headers)).text
            assert '"result"' in body, body[:300]

        for _ in range(3):
            await call()
        await window.ready()
        while True:
            await call()
            if not window.counted():
                return


async def sdk_client(url: str, raw: str, window: Window) -> None:
    async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {raw}"}, timeout=60) as http:
        async with Client(streamable_http_client(url, http_client=http), mode="legacy", cache=None) as client:
            for _ in range(3):
                await client.call_tool("whoami", {})
            await window.ready()
            while True:
                assert not (await client.call_tool("whoami", {})).is_error
                if not window.counted():
                    return


async def load(kind: str, url: str, raw: str, clients: int, seconds: float, pids: list[int], nginx_pid: int) -> dict:
    client = plain_client if kind == "http" else sdk_client
    window = Window(clients)
    tasks = [asyncio.create_task(client(url, raw, window)) for _ in range(clients)]
    await asyncio.wait_for(window.all_connected.wait(), 300)
    cpu_before = sum(cpu_seconds(pid) for pid in pids)
    nginx_before = cpu_seconds(nginx_pid)
    window.stop = time.monotonic() + seconds
    window.go.set()
    await asyncio.sleep(seconds)
    cpu = sum(cpu_seconds(pid) for pid in pids) - cpu_before
    nginx_cpu = cpu_seconds(nginx_pid) - nginx_before
    await asyncio.gather(*tasks)
    return {"calls": window.calls, "elapsed": seconds, "cpu": cpu, "nginx_cpu": nginx_cpu}


class BareBehindNginx:
    """The baseline: bench/mcp_bare_server.py (the same tool work, no governance) behind the same nginx."""

    def __init__(self, env: dict, work: Path):
        self.port = free_port()
        log = work / "bare.log"
        self.process = subprocess.Popen(
            [sys.executable, "bench/mcp_bare_server.py", "http", str(self.port)],
            cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log.open("w"),
        )
        wait_until_answering(f"http://127.0.0.1:{self.port}/mcp", self.process, log)
        self.nginx = Nginx({"r1": self.port}, work)
        self.url = self.nginx.url
        self.pids = [self.process.pid]

    def stop(self) -> None:
        self.nginx.stop()
        self.process.terminate()
        self.process.wait(15)


class Governed:
    def __init__(self, count: int, env: dict, work: Path):
        self.deployment = Deployment(count, env, work)
        self.url = self.deployment.url
        self.nginx = self.deployment.nginx
        self.pids = [replica.process.pid for replica in self.deployment.replicas]

    def stop(self) -> None:
        self.deployment.stop()


async def run(seconds: float, clients: int, raw: str) -> None:
    work = Path(tempfile.mkdtemp(prefix="bench-replicas-"))
    env = server_env(work)
    variants = [("bare SDK server", 1, lambda d: BareBehindNginx(env, d))] + [
        (f"governed x{n}", n, lambda d, n=n: Governed(n, env, d)) for n in (1, 2, 4)
    ]
    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start; {clients} concurrent clients, "
          f"{seconds:.0f} s per measurement; tools/call whoami through nginx")
    rows = []
    for name, processes, start in variants:
        directory = work / name.replace(" ", "_")
        directory.mkdir()
        async with AsyncExitStack() as stack:
            target = start(directory)
            stack.callback(target.stop)
            for kind in ("http", "sdk"):
                result = await load(kind, target.url + "/mcp", raw, clients, seconds, target.pids, target.nginx.process.pid)
                rows.append((name, processes, kind, result))
    print(f"{'variant':16} {'procs':>5} {'client':>6} {'calls/s':>8} {'server CPU s':>12} {'calls/CPU s':>11}"
          f" {'nginx CPU s':>11} {'vs bare (calls/CPU s)':>22}")
    bare = {kind: result for name, _, kind, result in rows if name.startswith("bare")}
    for name, processes, kind, result in rows:
        per_cpu = result["calls"] / result["cpu"] if result["cpu"] else float("nan")
        bare_per_cpu = bare[kind]["calls"] / bare[kind]["cpu"]
        print(f"{name:16} {processes:5} {kind:>6} {result['calls'] / result['elapsed']:8.0f} {result['cpu']:12.2f}"
              f" {per_cpu:11.0f} {result['nginx_cpu']:11.2f} {per_cpu / bare_per_cpu:22.2f}")
    print(json.dumps({f"{name}/{kind}": {"calls_per_s": round(r["calls"] / r["elapsed"], 1),
                                         "calls_per_cpu_s": round(r["calls"] / r["cpu"], 1) if r["cpu"] else None}
                      for name, _, kind, r in rows}))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--clients", type=int, default=16)
    args = parser.parse_args()
    try:
        asyncio.run(run(args.seconds, args.clients, setup_key()))
    finally:
        from django.db import connections

        connections.close_all()
        with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')


if __name__ == "__main__":
    main()
