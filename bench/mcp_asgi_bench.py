"""/mcp in the main ASGI app (the `make run` deployment) with persistent, health-checked database
connections, against the same app reconnecting on every call (MCP_DB_CONN_MAX_AGE=0, the old behaviour) and
against `runmcp --transport http`, interleaved in one run.

    python bench/mcp_asgi_bench.py [--calls 200] [--rounds 3] [--pg postgres://postgres@127.0.0.1:5432 | --sqlite]

Sequential kv_get calls, one session, with a plain HTTP client (JSON-RPC over httpx2, not the SDK) and with
the SDK's client; prints p50 and calls/s per variant and the ratio to the baseline. PostgreSQL (a throwaway
database) unless --sqlite.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--pg", default=os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432"))
    parser.add_argument("--sqlite", action="store_true")
    args = parser.parse_args()
    if args.sqlite:
        return run(args)
    from support import throwaway_postgres

    with throwaway_postgres(args.pg, "bench_asgi"):
        return run(args)


def run(args) -> int:
    from support import setup_django

    work = setup_django("bench-asgi-")
    import anyio
    from django.conf import settings

    from fault_database import Server
    from tenants.services import tenant_limit_set
    from tests.factories import ACTOR, make_key, make_member, make_tenant

    membership = make_member(make_tenant(), "admin")
    # The bench measures the deployment, not the tenant's budgets (its DynamoDB read units refused calls once the
    # calls got fast enough).
    for limit in ("requests_per_minute", "max_concurrent_requests", "dynamodb_read_units_per_second",
                  "dynamodb_write_units_per_second"):
        tenant_limit_set(tenant=membership.tenant, limit=limit, value=10_000_000, actor=ACTOR)
    raw = make_key(membership)[1]
    env = {**os.environ, "API_KEY_HMAC_KEY": settings.API_KEY_HMAC_KEY, "DJANGO_SECRET_KEY": settings.SECRET_KEY,
           "CONTROLPLANE_VAR_DIR": str(work), "LOG_LEVEL": "WARNING"}
    env.pop("REDIS_URL", None)
    uvicorn = [sys.executable, "-m", "uvicorn", "controlplane.asgi:application", "--host", "127.0.0.1", "--port", "0",
               "--no-access-log"]
    running = "Uvicorn running on (http://\\S+)"
    variants = {
        "asgi app, reconnect per call (baseline)": Server(uvicorn, {**env, "MCP_DB_CONN_MAX_AGE": "0"}, running),
        "asgi app, persistent connections": Server(uvicorn, env, running),
        "runmcp --transport http": Server(
            [sys.executable, "manage.py", "runmcp", "--transport", "http", "--port", "0"], env,
            "listening on (http://\\S+)/mcp"),
    }
    samples = {(name, client): [] for name in variants for client in ("plain HTTP", "SDK client")}
    try:
        for _ in range(args.rounds):
            for name, server in variants.items():
                samples[(name, "plain HTTP")] += anyio.run(plain_calls, server.url, raw, args.calls)
                samples[(name, "SDK client")] += anyio.run(sdk_calls, server.url, raw, args.calls)
    finally:
        for server in variants.values():
            server.stop()
    db = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    print(f"kv_get, one session, sequential, {args.rounds} x {args.calls} calls per variant, interleaved; {db}")
    baseline = "asgi app, reconnect per call (baseline)"
    for client in ("plain HTTP", "SDK client"):
        print(f"\n{client}:")
        base_p50 = statistics.median(samples[(baseline, client)])
        for name in variants:
            values = samples[(name, client)]
            p50 = statistics.median(values)
            rate = len(values) / (sum(values) / 1000)
            print(f"  {name:42s} p50 {p50:6.2f} ms  {rate:7.1f} calls/s  p50 vs baseline {p50 / base_p50:4.2f}x")
    return 0


async def plain_calls(url, raw, calls) -> list[float]:
    import httpx2

    from fault_database import jsonrpc_answer

    headers = {"Authorization": f"Bearer {raw}", "Accept": "application/json, text/event-stream"}
    async with httpx2.AsyncClient(base_url=url, headers=headers, timeout=30) as http:
        init = await http.post("/mcp", json={"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
            "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "bench", "version": "1"}}})
        session = {"Mcp-Session-Id": init.headers["mcp-session-id"]}
        await http.post("/mcp", headers=session, json={"jsonrpc": "2.0", "method": "notifications/initialized"})
        await http.post("/mcp", headers=session, json={"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                                                       "params": {"name": "kv_set", "arguments": {"key": "k", "value": "v"}}})
        out = []
        for n in range(calls):
            started = time.perf_counter()
            response = await http.post("/mcp", headers=session, json={
                "jsonrpc": "2.0", "id": n + 2, "method": "tools/call",
                "params": {"name": "kv_get", "arguments": {"key": "k"}}})
            message = jsonrpc_answer(response)
            out.append((time.perf_counter() - started) * 1000)
            assert message and "result" in message, response.text
        await http.delete("/mcp", headers=session)
        return out


async def sdk_calls(url, raw, calls) -> list[float]:
    import httpx2
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client

    async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {raw}"}, timeout=30) as http:
        async with Client(streamable_http_client(f"{url}/mcp", http_client=http), mode="legacy", cache=None) as client:
            await client.call_tool("kv_set", {"key": "k", "value": "v"})
            out = []
            for _ in range(calls):
                started = time.perf_counter()
                result = await client.call_tool("kv_get", {"key": "k"})
                out.append((time.perf_counter() - started) * 1000)
                assert not result.is_error
            return out


if __name__ == "__main__":
    sys.exit(main())
