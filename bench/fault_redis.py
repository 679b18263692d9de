"""Redis faults injected on this machine, against real servers; prints what was lost (it must print 0).

    python bench/fault_redis.py [--stall 5] [--outage 5] [--workers 4]

Starts a throwaway redis-server, then, for `runmcp --transport http` and for the main ASGI app under uvicorn
(both with REDIS_URL pointing at it, on a throwaway SQLite database), drives kv_set / kv_get / events_send
calls from plain HTTP clients (threads) and one SDK client while it stalls Redis (SIGSTOP for --stall seconds)
and then takes it down (killed for --outage seconds, then restarted). The tenant may run fewer calls at once
than there are clients, so leaked concurrency slots would lock it out. For each server it prints: calls
made, answers by kind (result / JSON-RPC error / HTTP status), writes acknowledged vs readable afterwards,
writes reported failed that committed anyway, events accepted vs delivered, how long the tenant was locked
out after the stall, and the server's log lines (tracebacks, outage lines).
"""

import argparse
import json
import os
import re
import subprocess
import sys
import threading
import time
from collections import Counter

from support import ROOT, setup_django

WORK = setup_django("controlplane-fault-redis-")
sys.path.insert(0, str(ROOT))

import anyio  # noqa: E402
import httpx2  # noqa: E402
from django.conf import settings  # noqa: E402
from mcp import Client  # noqa: E402
from mcp.client.streamable_http import streamable_http_client  # noqa: E402
from mcp.shared.exceptions import MCPError  # noqa: E402

from mcpbridge.models import OutboxEvent  # noqa: E402
from mcpbridge.services import outbox  # noqa: E402
from mcpbridge.services.kv import kv_get  # noqa: E402
from mcpbridge.services.errors import NotFound  # noqa: E402
from tenants.policy import resolve_api_key  # noqa: E402
from tenants.services import tenant_limit_set  # noqa: E402
from tests.factories import ACTOR, make_key, make_member, make_tenant  # noqa: E402
from tests.faults.redis_server import RedisServer, free_port  # noqa: E402

LEASE_SECONDS = 5
MAX_CONCURRENT = 3
_LISTENING = re.compile(r"listening on (http://\S+)/mcp")
_ACCEPT = "application/json, text/event-stream"
_PROTOCOL = "2025-11-25"


class Tally:
    """What every client saw, and what it wrote."""

    def __init__(self):
        self.lock = threading.Lock()
        self.answers: Counter = Counter()
        self.writes_acked: dict[str, str] = {}
        self.writes_refused: dict[str, str] = {}
        self.events_acked: set[str] = set()
        self.last_ok = 0.0
        self.ok_times: list[float] = []

    def answer(self, kind: str, tool: str, arguments: dict, payload: dict | None) -> None:
        with self.lock:
            self.answers[kind] += 1
            if tool == "kv_set":
                target = self.writes_acked if kind == "result" else self.writes_refused
                target[arguments["key"]] = arguments["value"]
            if kind == "result":
                self.ok_times.append(time.monotonic())
                if tool == "events_send":
                    self.events_acked.add(payload["event_id"])


def call_plan(worker: str, n: int) -> tuple[str, dict]:
    if n % 5 == 4:
        return "events_send", {"detail_type": "fault.test", "detail": {"worker": worker, "n": n}}
    if n % 2:
        return "kv_get", {"key": f"{worker}-{n - 1}"}
    return "kv_set", {"key": f"{worker}-{n}", "value": f"value-{worker}-{n}"}


# --- a plain HTTP client: JSON-RPC over POST, as any outside client would send it ------------------------------


def rpc_answer(response: httpx2.Response) -> dict | None:
    if response.headers.get("content-type", "").startswith("text/event-stream"):
        for line in response.text.splitlines():
            if line.startswith("data:") and line[5:].strip():
                message = json.loads(line[5:])
                if "id" in message:
                    return message
        return None
    return response.json()


def plain_worker(url: str, raw_key: str, name: str, tally: Tally, stop: threading.Event) -> None:
    headers = {"Authorization": f"Bearer {raw_key}", "Accept": _ACCEPT, "Content-Type": "application/json"}
    with httpx2.Client(headers=headers, timeout=30) as http:
        session = None
        n = 0
        while not stop.is_set():
            try:
                if session is None:
                    init = http.post(url, json={"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
                        "protocolVersion": _PROTOCOL, "capabilities": {}, "clientInfo": {"name": "fault-plain", "version": "1"}}})
                    if init.status_code != 200 or "mcp-session-id" not in init.headers:
                        tally.answer(f"HTTP {init.status_code} (initialize)", "initialize", {}, None)
                        time.sleep(0.1)
                        continue
                    session = {"Mcp-Session-Id": init.headers["mcp-session-id"], "Mcp-Protocol-Version": _PROTOCOL}
                    http.post(url, json={"jsonrpc": "2.0", "method": "notifications/initialized"}, headers=session)
                tool, arguments = call_plan(name, n)
                n += 1
                response = http.post(url, headers=session, json={
                    "jsonrpc": "2.0", "id": n, "method": "tools/call", "params": {"name": tool, "arguments": arguments}})
            except httpx2.TransportError as exc:
                tally.answer(f"no answer ({type(exc).__name__})", "", {}, None)
                time.sleep(0.1)
                continue
            if response.status_code == 404:  # session gone: a new handshake
                session = None
            if response.status_code != 200:
                tally.answer(f"HTTP {response.status_code}", tool, arguments, None)
                continue
            message = rpc_answer(response)
            if message is None:
                tally.answer("HTTP 200 without an answer", tool, arguments, None)
            elif "error" in message:
                tally.answer(f"JSON-RPC {message['error']['code']}", tool, arguments, None)
            else:
                result = message["result"]
                kind = "tool result isError" if result.get("isError") else "result"
                tally.answer(kind, tool, arguments, result.get("structuredContent"))


# --- the SDK's own client -----------------------------------------------------------------------------------------


def sdk_worker(url: str, raw_key: str, tally: Tally, stop: threading.Event) -> None:
    async def main():
        n = 0
        while not stop.is_set():
            try:
                async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {raw_key}"}, timeout=30) as http:
                    transport = streamable_http_client(url, http_client=http)
                    async with Client(transport, mode="legacy", cache=None, read_timeout_seconds=30) as client:
                        while not stop.is_set():
                            tool, arguments = call_plan("sdk", n)
                            n += 1
                            try:
                                result = await client.call_tool(tool, arguments)
                            except MCPError as exc:
                                tally.answer(f"JSON-RPC {exc.code}", tool, arguments, None)
                                continue
                            kind = "tool result isError" if result.is_error else "result"
                            tally.answer(kind, tool, arguments, result.structured_content)
            except Exception as exc:  # the SDK client gave up (an HTTP error status, a dropped stream): reconnect
                status = getattr(getattr(exc, "response", None), "status_code", None)
                tally.answer(f"HTTP {status}" if status else f"SDK client error ({type(exc).__name__})", "", {}, None)
                await anyio.sleep(0.1)

    anyio.run(main)


# --- servers ------------------------------------------------------------------------------------------------------


def server_env(redis_url: str) -> dict:
    return {
        **os.environ,
        "REDIS_URL": redis_url,
        "API_KEY_HMAC_KEY": settings.API_KEY_HMAC_KEY,
        "DJANGO_SECRET_KEY": settings.SECRET_KEY,
        "MCP_CONCURRENCY_LEASE_SECONDS": str(LEASE_SECONDS),
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
    }


class Server:
    def __init__(self, kind: str, redis_url: str):
        self.kind = kind
        if kind == "runmcp":
            args = ["manage.py", "runmcp", "--transport", "http", "--host", "127.0.0.1", "--port", "0"]
        else:
            self.port = free_port()
            args = ["-m", "uvicorn", "controlplane.asgi:application", "--host", "127.0.0.1", "--port", str(self.port),
                    "--log-level", "warning", "--no-access-log"]
        self.process = subprocess.Popen([sys.executable, *args], cwd=ROOT, env=server_env(redis_url),
                                        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                        text=True)
        self.log: list[str] = []
        self.url = None if kind == "runmcp" else f"http://127.0.0.1:{self.port}/mcp"
        found = threading.Event()

        def read():
            for line in self.process.stderr:
                self.log.append(line)
                match = _LISTENING.search(line)
                if match and self.url is None:
                    self.url = match.group(1) + "/mcp"
                    found.set()
            found.set()

        threading.Thread(target=read, daemon=True).start()
        if kind == "runmcp":
            found.wait(60)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                base = self.url.rsplit("/mcp", 1)[0]
                httpx2.get(base + "/.well-known/oauth-protected-resource/mcp", timeout=2)
                return
            except (httpx2.TransportError, AttributeError):
                time.sleep(0.2)
        raise RuntimeError(f"{kind} did not start:\n" + "".join(self.log))

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


# --- one run: stall, then outage ------------------------------------------------------------------------------------


def run(kind: str, args) -> dict:
    redis_server = RedisServer()
    membership = make_member(make_tenant(), "user")
    tenant_limit_set(tenant=membership.tenant, limit="max_concurrent_requests", value=MAX_CONCURRENT, actor=ACTOR)
    tenant_limit_set(tenant=membership.tenant, limit="requests_per_minute", value=1_000_000, actor=ACTOR)
    _, raw_key = make_key(membership)
    server = Server(kind, redis_server.url)
    tally, stop = Tally(), threading.Event()
    workers = [threading.Thread(target=plain_worker, args=(server.url, raw_key, f"p{i}", tally, stop))
               for i in range(args.workers)]
    workers.append(threading.Thread(target=sdk_worker, args=(server.url, raw_key, tally, stop)))
    try:
        for worker in workers:
            worker.start()
        time.sleep(2)
        redis_server.pause()
        time.sleep(args.stall)
        redis_server.resume()
        resumed = time.monotonic()
        time.sleep(LEASE_SECONDS + 3)
        with tally.lock:
            first_ok = min((t for t in tally.ok_times if t > resumed), default=None)
        redis_server.kill()
        time.sleep(args.outage)
        redis_server.start()
        restarted = time.monotonic()
        time.sleep(3)
        with tally.lock:
            recovered = min((t for t in tally.ok_times if t > restarted), default=None)
    finally:
        stop.set()
        for worker in workers:
            worker.join(60)
        server.stop()
        redis_server.close()

    principal = resolve_api_key(raw_key)
    readable = 0
    for key, value in tally.writes_acked.items():
        try:
            readable += kv_get(principal=principal, key=key)["value"] == value
        except NotFound:
            pass
    committed_but_refused = 0
    for key, value in tally.writes_refused.items():
        try:
            committed_but_refused += kv_get(principal=principal, key=key)["value"] == value
        except NotFound:
            pass
    outbox.outbox_drain()
    delivered = OutboxEvent.objects.filter(
        event_id__in=tally.events_acked, status=OutboxEvent.Status.DELIVERED
    ).count()
    log = "".join(server.log)
    log_file = WORK / f"{kind}.log"
    log_file.write_text(log)
    return {
        "server": kind,
        "calls": sum(tally.answers.values()),
        "answers": dict(tally.answers.most_common()),
        "raw_500s": sum(count for kind_, count in tally.answers.items() if kind_.startswith("HTTP 5")),
        "writes_acknowledged": len(tally.writes_acked),
        "writes_readable": readable,
        "writes_lost": len(tally.writes_acked) - readable,
        "writes_reported_failed_but_committed": committed_but_refused,
        "events_accepted": len(tally.events_acked),
        "events_delivered": delivered,
        "events_lost": len(tally.events_acked) - delivered,
        "first_success_after_stall_s": round(first_ok - resumed, 2) if first_ok else None,
        "first_success_after_restart_s": round(recovered - restarted, 2) if recovered else None,
        "log_lines": len(log.splitlines()),
        "log_tracebacks": log.count("Traceback"),
        "log_redis_unavailable_lines": log.count(" is unavailable ("),
        "log_redis_back_lines": log.count(" is back after "),
        "log_file": str(log_file),
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--stall", type=float, default=5)
    parser.add_argument("--outage", type=float, default=5)
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args()
    print(f"Redis stall {args.stall} s (SIGSTOP), then outage {args.outage} s (killed, restarted); "
          f"{args.workers} plain HTTP clients + 1 SDK client; tenant max_concurrent_requests={MAX_CONCURRENT}, "
          f"lease {LEASE_SECONDS} s")
    lost = 0
    for kind in ("runmcp", "uvicorn"):
        report = run(kind, args)
        print(f"\n[{kind}]")
        for name, value in report.items():
            if name != "server":
                print(f"  {name}: {value}")
        lost += report["writes_lost"] + report["events_lost"] + report["raw_500s"] + report["writes_reported_failed_but_committed"]
    print(f"\nlost or misreported: {lost}")
    sys.exit(1 if lost else 0)


if __name__ == "__main__":
    main()
