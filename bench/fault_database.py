"""Fault injection: PostgreSQL terminates the serving processes' connections while clients keep calling.

    python bench/fault_database.py [--seconds 10] [--pg postgres://postgres@127.0.0.1:5432]

Creates a throwaway PostgreSQL database, starts `runmcp --transport http` and the main ASGI app under uvicorn
(as `make run` does) on it, and drives both with a plain HTTP client speaking JSON-RPC and with the SDK's
client (kv_set of a new key per call), plus REST and decision API requests on the main app, while a thread
runs pg_terminate_backend on every connection of the two servers every 0.5 s. Then it reads every write
back and prints, per server and client: calls, answers by kind, writes acknowledged vs readable, and writes
answered as failed that are stored all the same (by the answer they got). Lost writes, raw 500s and
misreported writes must all be 0.
"""

import argparse
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
APPLICATION_NAME = "fault-target"
# A write answered with an error (JSON-RPC error, HTTP error status, the client's transport giving up) that is
# stored all the same: a committed write reported as failed. Must be 0.
MISREPORTED = "reported failed yet committed"
UNACKNOWLEDGED = "unacknowledged"


def unacknowledged(answer: str) -> str:
    return f"{UNACKNOWLEDGED}: {answer}"


def said(message: str) -> str:
    """What a -32003 told the client about its write."""
    if "not stored" in message:
        return " 'not stored'"
    if "unknown" in message:
        return " 'outcome unknown'"
    return ""


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--pg", default=os.environ.get("FAULT_PG_URL", "postgres://postgres@127.0.0.1:5432"))
    args = parser.parse_args()
    name = f"fault_db_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(f"{args.pg}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        return run(args, f"{args.pg}/{name}")
    finally:
        with psycopg.connect(f"{args.pg}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run(args, database_url: str) -> int:
    os.environ["DATABASE_URL"] = database_url
    sys.path.insert(0, str(ROOT / "bench"))
    from support import setup_django

    work = setup_django("fault-database-")
    import anyio

    from django.conf import settings
    from tenants.services import tenant_limit_set
    from tests.factories import ACTOR, make_key, make_member, make_tenant

    membership = make_member(make_tenant(), "admin")
    for limit in ("requests_per_minute", "max_concurrent_requests", "kv_items", "dynamodb_read_units_per_second",
                  "dynamodb_write_units_per_second"):
        tenant_limit_set(tenant=membership.tenant, limit=limit, value=10_000_000, actor=ACTOR)
    raw = make_key(membership)[1]
    env = {
        **os.environ,
        "DATABASE_URL": f"{database_url}?application_name={APPLICATION_NAME}",
        "API_KEY_HMAC_KEY": settings.API_KEY_HMAC_KEY,
        "DJANGO_SECRET_KEY": settings.SECRET_KEY,
        "CONTROLPLANE_VAR_DIR": str(work),
        "LOG_LEVEL": "WARNING",
    }
    env.pop("REDIS_URL", None)
    servers = {
        "runmcp http": Server([sys.executable, "manage.py", "runmcp", "--transport", "http", "--port", "0"], env,
                              "listening on (http://\\S+)/mcp"),
        "asgi app (uvicorn)": Server([sys.executable, "-m", "uvicorn", "controlplane.asgi:application", "--host",
                                      "127.0.0.1", "--port", "0"], env, "Uvicorn running on (http://\\S+)"),
    }
    try:
        stop = threading.Event()
        terminations = Counter()
        injector = threading.Thread(target=inject, args=(database_url, stop, terminations), daemon=True)
        results: dict[str, Counter] = {}
        writes: dict[str, dict[str, str]] = {}

        async def drive_all():
            async with anyio.create_task_group() as tg:
                for number, (label, server) in enumerate(servers.items()):
                    for kind in ("plain HTTP", "SDK client"):
                        key = f"{label} / {kind}"
                        results[key], writes[key] = Counter(), {}
                        driver = drive_plain if kind == "plain HTTP" else drive_sdk
                        # Keys are unique per server and client: both write into the same namespace.
                        tag = f"{'plain' if kind == 'plain HTTP' else 'sdk'}{number}"
                        tg.start_soon(driver, server.url, raw, args.seconds, results[key], writes[key], tag)
                rest = "asgi app (uvicorn) / REST + decision API"
                results[rest] = Counter()
                tg.start_soon(drive_rest, servers["asgi app (uvicorn)"].url, raw, args.seconds, results[rest])

        injector.start()
        anyio.run(drive_all)
        stop.set()
        injector.join()
        readable = anyio.run(read_back, servers["runmcp http"].url, raw, writes)
    finally:
        for server in servers.values():
            server.stop()
    return report(args.seconds, terminations, results, writes, readable, servers)


class Server:
    def __init__(self, command, env, pattern):
        import re

        self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.log: list[str] = []
        found = threading.Event()
        self.url = None

        def read():
            for line in self.process.stderr:
                self.log.append(line)
                match = re.search(pattern, line)
                if match and not found.is_set():
                    self.url = match.group(1)
                    found.set()
            found.set()

        threading.Thread(target=read, daemon=True).start()
        found.wait(60)
        if self.url is None:
            raise RuntimeError("server did not start:\n" + "".join(self.log))

    def tracebacks(self) -> int:
        return sum("Traceback" in line for line in self.log)

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()


def inject(database_url: str, stop: threading.Event, terminations: Counter) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        while not stop.wait(0.5):
            killed = conn.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND application_name = %s", [APPLICATION_NAME]
            ).fetchone()[0]
            terminations["rounds"] += 1
            terminations["connections"] += killed


def jsonrpc_answer(response) -> dict | None:
    """The JSON-RPC message of a Streamable HTTP answer (JSON or an SSE stream)."""
    if response.headers.get("content-type", "").startswith("application/json"):
        return response.json()
    for line in response.text.splitlines():
        if line.startswith("data:") and line[5:].strip():
            message = json.loads(line[5:])
            if "id" in message:
                return message
    return None


async def drive_plain(url, raw, seconds, counts: Counter, writes: dict, tag: str) -> None:
    import httpx2

    headers = {"Authorization": f"Bearer {raw}", "Accept": "application/json, text/event-stream",
               "Content-Type": "application/json"}
    async with httpx2.AsyncClient(base_url=url, headers=headers, timeout=30) as http:
        session = None
        deadline, n = time.monotonic() + seconds, 0
        while time.monotonic() < deadline:
            if session is None:
                init = await http.post("/mcp", json={"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
                    "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "plain", "version": "1"}}})
                if init.status_code != 200:
                    counts[f"HTTP {init.status_code}"] += 1
                    continue
                session = init.headers["mcp-session-id"]
                await http.post("/mcp", headers={"Mcp-Session-Id": session},
                                json={"jsonrpc": "2.0", "method": "notifications/initialized"})
            n += 1
            key, value = f"{tag}-{n}", str(n)
            response = await http.post("/mcp", headers={"Mcp-Session-Id": session}, json={
                "jsonrpc": "2.0", "id": n, "method": "tools/call",
                "params": {"name": "kv_set", "arguments": {"key": key, "value": value}}})
            counts["calls"] += 1
            if response.status_code != 200:
                counts[f"HTTP {response.status_code}"] += 1
                writes[key] = unacknowledged(f"HTTP {response.status_code}")
                if response.status_code == 404:
                    session = None
                continue
            message = jsonrpc_answer(response)
            if message and "result" in message and not message["result"].get("isError"):
                counts["result"] += 1
                writes[key] = value
            else:
                error = (message or {}).get("error", {})
                kind = f"JSON-RPC {error.get('code', 'tool error')}{said(error.get('message', ''))}"
                counts[kind] += 1
                writes[key] = unacknowledged(kind)


async def drive_sdk(url, raw, seconds, counts: Counter, writes: dict, tag: str) -> None:
    import httpx2
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client
    from mcp.shared.exceptions import MCPError

    deadline, n = time.monotonic() + seconds, 0
    while time.monotonic() < deadline:
        try:
            async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {raw}"}, timeout=30) as http:
                async with Client(streamable_http_client(f"{url}/mcp", http_client=http), mode="legacy",
                                  cache=None) as client:
                    while time.monotonic() < deadline:
                        n += 1
                        key, value = f"{tag}-{n}", str(n)
                        counts["calls"] += 1
                        writes[key] = unacknowledged("client exception")
                        try:
                            result = await client.call_tool("kv_set", {"key": key, "value": value})
                        except MCPError as exc:
                            kind = f"JSON-RPC {exc.code}{said(str(exc))}"
                            counts[kind] += 1
                            writes[key] = unacknowledged(kind)
                            continue
                        if result.is_error:
                            counts["tool error"] += 1
                            writes[key] = unacknowledged("tool error")
                        else:
                            counts["result"] += 1
                            writes[key] = value
        except Exception as exc:  # the transport gave up (an HTTP error status): count it, reconnect
            counts[f"client exception {type(exc).__name__}"] += 1


async def drive_rest(url, raw, seconds, counts: Counter) -> None:
    import httpx2

    async with httpx2.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {raw}"}, timeout=30) as http:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            for method, path, body in (("GET", "/api/v1/tenants/", None),
                                       ("POST", "/api/decide/v1/check", {"tool": "kv_set"})):
                response = await http.request(method, path, json=body)
                counts["calls"] += 1
                counts[f"HTTP {response.status_code}"] += 1


async def read_back(url, raw, writes: dict) -> dict[str, int]:
    import httpx2
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client

    readable = Counter()
    async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {raw}"}, timeout=30) as http:
        async with Client(streamable_http_client(f"{url}/mcp", http_client=http), mode="legacy", cache=None) as client:
            for label, keys in writes.items():
                for key, value in keys.items():
                    result = await client.call_tool("kv_get", {"key": key})
                    stored = None if result.is_error else result.structured_content.get("value")
                    if not value.startswith(UNACKNOWLEDGED) and stored == value:
                        readable[f"{label} acknowledged+readable"] += 1
                    elif value.startswith(UNACKNOWLEDGED) and stored is not None:
                        readable[f"{label} {MISREPORTED}"] += 1
                        readable[f"{label} {MISREPORTED} ({value.removeprefix(UNACKNOWLEDGED + ': ')})"] += 1
    return readable


def report(seconds, terminations, results, writes, readable, servers) -> int:
    print(f"pg_terminate_backend every 0.5 s for {seconds:g} s: {terminations['rounds']} rounds, "
          f"{terminations['connections']} server connections terminated")
    lost_total = raw500_total = misreported_total = 0
    for label, counts in results.items():
        answers = ", ".join(f"{kind} {count}" for kind, count in sorted(counts.items()) if kind != "calls")
        print(f"\n{label}: {counts['calls']} calls; {answers}")
        raw500 = sum(count for kind, count in counts.items() if kind.startswith("HTTP 5") and kind != "HTTP 503")
        raw500_total += raw500
        if label in writes:
            acknowledged = sum(1 for value in writes[label].values() if not value.startswith(UNACKNOWLEDGED))
            ok = readable[f"{label} acknowledged+readable"]
            lost = acknowledged - ok
            lost_total += lost
            misreported = readable[f"{label} {MISREPORTED}"]
            misreported_total += misreported
            how = ", ".join(
                f"{kind.removeprefix(f'{label} {MISREPORTED} ')} {count}"
                for kind, count in sorted(readable.items()) if kind.startswith(f"{label} {MISREPORTED} (")
            )
            print(f"  writes acknowledged {acknowledged}, readable afterwards {ok}, lost {lost}; "
                  f"{MISREPORTED} {misreported}" + (f" {how}" if how else ""))
        print(f"  raw 500s {raw500}")
    for name, server in servers.items():
        print(f"\n{name}: tracebacks in its log: {server.tracebacks()}")
        if os.environ.get("FAULT_SHOW_LOG"):
            print("".join(server.log))
    print(f"\nLOST WRITES: {lost_total}   RAW 500s: {raw500_total}   MISREPORTED WRITES: {misreported_total}")
    return 0 if lost_total == 0 and raw500_total == 0 and misreported_total == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
