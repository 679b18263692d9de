"""Governed MCP calls against a bare SDK server doing the same work, over the same transports, in one run.

    python bench/mcp_bench.py [--calls 300]

Prints p50/p99 latency of tools/call (whoami) and tools/list for `manage.py runmcp` (stdio and HTTP) and
for bench/mcp_bare_server.py, and the governed/bare ratios. Uses its own SQLite file under var/.
"""

import argparse
import os
import socket
import statistics
import subprocess
import sys
import time
from contextlib import asynccontextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DB = ROOT / "var" / "bench_mcp.sqlite3"
sys.path.insert(0, str(ROOT))
os.environ["DJANGO_SETTINGS_MODULE"] = "controlplane.settings"
os.environ["DATABASE_URL"] = f"sqlite:///{DB}"

import anyio  # noqa: E402
import django  # noqa: E402
import httpx2  # noqa: E402

django.setup()
from support import quiet_logs  # noqa: E402

quiet_logs()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from mcp import Client, StdioServerParameters  # noqa: E402
from mcp.client.streamable_http import streamable_http_client  # noqa: E402

from tenants.services import tenant_limit_set  # noqa: E402
from tests.factories import ACTOR, make_key, make_member, make_tenant  # noqa: E402


def setup_key() -> str:
    DB.unlink(missing_ok=True)
    call_command("migrate", verbosity=0)
    membership = make_member(make_tenant(), "admin")
    for limit in ("requests_per_minute", "max_concurrent_requests"):
        tenant_limit_set(tenant=membership.tenant, limit=limit, value=10_000_000, actor=ACTOR)
    return make_key(membership)[1]


def env() -> dict:
    return {**os.environ, "API_KEY_HMAC_KEY": settings.API_KEY_HMAC_KEY, "LOG_LEVEL": "WARNING"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@asynccontextmanager
async def http_server(command: list[str], port: int, raw: str):
    process = subprocess.Popen(command, cwd=ROOT, env=env(), stderr=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    try:
        for _ in range(300):
            try:
                httpx2.get(f"http://127.0.0.1:{port}/mcp", timeout=1)
                break
            except httpx2.TransportError:
                time.sleep(0.1)
        async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {raw}"}, timeout=30) as http:
            async with Client(streamable_http_client(f"http://127.0.0.1:{port}/mcp", http_client=http), mode="legacy", cache=None) as client:
                yield client
    finally:
        process.terminate()
        process.wait(15)


async def measure(client, calls: int) -> dict:
    for _ in range(20):  # warm-up
        await client.call_tool("whoami", {})
    out = {}
    for name, call in (("tools/call", lambda: client.call_tool("whoami", {})), ("tools/list", client.list_tools)):
        samples = []
        for _ in range(calls):
            started = time.perf_counter()
            await call()
            samples.append((time.perf_counter() - started) * 1000)
        samples.sort()
        out[name] = (statistics.median(samples), samples[int(len(samples) * 0.99) - 1])
    return out


async def run(calls: int, raw: str) -> None:
    python = sys.executable
    results = {}
    stdio = {
        "governed": StdioServerParameters(command=python, args=["manage.py", "runmcp"], env={**env(), "CONTROLPLANE_API_KEY": raw}, cwd=str(ROOT)),
        "bare": StdioServerParameters(command=python, args=["bench/mcp_bare_server.py", "stdio", raw], env=env(), cwd=str(ROOT)),
    }
    for kind, params in stdio.items():
        async with Client(params, mode="legacy", cache=None) as client:
            results[("stdio", kind)] = await measure(client, calls)
    port = free_port()
    async with http_server([python, "manage.py", "runmcp", "--transport", "http", "--port", str(port)], port, raw) as client:
        results[("http", "governed")] = await measure(client, calls)
    port = free_port()
    async with http_server([python, "bench/mcp_bare_server.py", "http", str(port)], port, raw) as client:
        results[("http", "bare")] = await measure(client, calls)

    print(f"{calls} sequential calls each; latency in ms (p50 / p99); ratio = governed / bare")
    for transport in ("stdio", "http"):
        for method in ("tools/call", "tools/list"):
            g50, g99 = results[(transport, "governed")][method]
            b50, b99 = results[(transport, "bare")][method]
            print(
                f"{transport:5} {method:10}  governed {g50:7.2f} / {g99:7.2f}   bare {b50:7.2f} / {b99:7.2f}"
                f"   ratio p50 {g50 / b50:5.2f}  p99 {g99 / b99:5.2f}"
            )


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=300)
    anyio.run(run, parser.parse_args().calls, setup_key())
