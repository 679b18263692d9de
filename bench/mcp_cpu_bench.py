"""Governed kv_get / kv_set calls per CPU second of the serving process, against a bare SDK server that
resolves no key and makes the same storage calls (bench/mcp_bare_server.py), interleaved in one run.

    python bench/mcp_cpu_bench.py [--calls 300] [--rounds 2] [--sessions 1,32] [--pg URL | --sqlite]

Deployments: `runmcp --transport http`, /mcp in the main ASGI app (uvicorn controlplane.asgi, as `make run`),
`runmcp` over stdio; each against the bare server on the same transport. Clients: the SDK's, and a plain
one (JSON-RPC over httpx2 for HTTP, JSON lines on the pipes for stdio). Concurrency: N sessions calling at
once (stdio has one session per process, so N calls in flight on it). The serving process's CPU comes from
/proc/<pid>/stat (utime + stime) around each measured batch; sessions are opened before it. Every variant
runs once per round, rounds repeat the whole matrix, and the figure is total calls / total CPU seconds.
SQLite (a throwaway file) unless --pg is given. With --pg at 32 sessions each of the five servers keeps a
connection per busy worker thread (up to about 40), so the PostgreSQL server needs max_connections well above
150 on top of what else uses it; with the default of 100 run it with --sessions 1.
"""

import argparse
import json
import os
import sys
import time
from contextlib import AsyncExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
TICKS = os.sysconf("SC_CLK_TCK")
TOOLS = ("kv_get", "kv_set")
MEASUREMENT_TIMEOUT = 300  # seconds: a server that stops answering fails the bench instead of hanging it
INIT = {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "bench", "version": "1"}}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=300, help="calls per variant per round")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--sessions", default="1,32")
    parser.add_argument("--verbose", action="store_true", help="print each measurement to stderr")
    parser.add_argument("--pg", default=None, help="PostgreSQL server URL, e.g. postgres://postgres@127.0.0.1:5432")
    args = parser.parse_args()
    args.sessions = [int(n) for n in args.sessions.split(",")]
    if not args.pg:
        return run(args)
    from support import throwaway_postgres

    with throwaway_postgres(args.pg, "bench_cpu"):
        return run(args)


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime (fields 14 and 15 of proc(5))


def run(args) -> int:
    from support import setup_django

    work = setup_django("bench-cpu-")
    import anyio
    from django.conf import settings

    from fault_database import Server
    from tenants.limits import Limit
    from tenants.policy import resolve_api_key
    from tenants.services import tenant_limit_set
    from tests.factories import ACTOR, make_key, make_member, make_tenant

    membership = make_member(make_tenant(), "admin")
    # Limits out of the way (they are still checked on every call): the bench measures cost, not refusals.
    for limit in (Limit.REQUESTS_PER_MINUTE, Limit.MAX_CONCURRENT_REQUESTS, Limit.MAX_MCP_SESSIONS,
                  Limit.MAX_MCP_SESSIONS_PER_KEY, Limit.DYNAMODB_READ_UNITS_PER_SECOND,
                  Limit.DYNAMODB_WRITE_UNITS_PER_SECOND):
        tenant_limit_set(tenant=membership.tenant, limit=limit, value=10_000_000, actor=ACTOR)
    raw = make_key(membership)[1]
    namespace = resolve_api_key(raw).namespace
    env = {**os.environ, "API_KEY_HMAC_KEY": settings.API_KEY_HMAC_KEY, "DJANGO_SECRET_KEY": settings.SECRET_KEY,
           "CONTROLPLANE_VAR_DIR": str(work), "LOG_LEVEL": "WARNING", "BENCH_KV_NAMESPACE": namespace,
           # Every measurement opens its sessions anew; the initialize rate limits would refuse them.
           "MCP_INITIALIZE_RATE_PER_MINUTE_PER_KEY": "1000000", "MCP_INITIALIZE_RATE_PER_MINUTE_PER_ADDRESS": "1000000"}
    env.pop("REDIS_URL", None)
    python = sys.executable
    http = {
        "runmcp http": Server([python, "manage.py", "runmcp", "--transport", "http", "--port", "0"], env,
                              "listening on (http://\\S+)/mcp"),
        "asgi app /mcp": Server([python, "-m", "uvicorn", "controlplane.asgi:application", "--host", "127.0.0.1",
                                 "--port", "0", "--no-access-log"], env, "Uvicorn running on (http://\\S+)"),
        "bare http": Server([python, "bench/mcp_bare_server.py", "http", "0"], env, "Uvicorn running on (http://\\S+)"),
    }
    stdio = {
        "runmcp stdio": ([python, "manage.py", "runmcp"], {**env, "CONTROLPLANE_API_KEY": raw}),
        "bare stdio": ([python, "bench/mcp_bare_server.py", "stdio", raw], env),
    }
    keys = [f"bench-{n}" for n in range(max(args.sessions))]
    totals: dict[tuple, list[float]] = {}  # (variant, client, sessions, tool) -> [calls, cpu seconds]
    try:
        anyio.run(seed, http["runmcp http"].url, raw, keys)
        for _ in range(args.rounds):
            for sessions in args.sessions:
                for tool in TOOLS:
                    for client in ("SDK", "plain"):
                        for name, server in http.items():
                            calls, cpu = anyio.run(bounded, measure_http, server, client, raw, sessions, tool, keys,
                                                   args.calls)
                            add(totals, (name, client, sessions, tool), calls, cpu, args.verbose)
                        for name, (command, variant_env) in stdio.items():
                            calls, cpu = anyio.run(bounded, measure_stdio, command, variant_env, client, sessions,
                                                   tool, keys, args.calls)
                            add(totals, (name, client, sessions, tool), calls, cpu, args.verbose)
    finally:
        for server in http.values():
            server.stop()
    report(args, settings, totals)
    return 0


async def bounded(measure, *args):
    import anyio

    with anyio.fail_after(MEASUREMENT_TIMEOUT):
        return await measure(*args)


def add(totals, key, calls, cpu, verbose) -> None:
    entry = totals.setdefault(key, [0, 0.0])
    entry[0] += calls
    entry[1] += cpu
    if verbose:
        print(*key, calls, f"{cpu:.2f} CPU s", file=sys.stderr, flush=True)


def report(args, settings, totals) -> None:
    db = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    print(f"calls per CPU second of the serving process; {args.rounds} rounds x {args.calls} calls per variant, "
          f"interleaved; {db}; ratio = governed / bare on the same transport (target >= 0.85)")
    pairs = (("runmcp http", "bare http"), ("asgi app /mcp", "bare http"), ("runmcp stdio", "bare stdio"))
    print(f"{'deployment':14} {'client':6} {'sessions':>8} {'tool':7} {'governed':>9} {'bare':>9} {'ratio':>6}")
    for governed, bare in pairs:
        for client in ("SDK", "plain"):
            for sessions in args.sessions:
                for tool in TOOLS:
                    g = totals[(governed, client, sessions, tool)]
                    b = totals[(bare, client, sessions, tool)]
                    g_rate, b_rate = g[0] / max(g[1], 1e-9), b[0] / max(b[1], 1e-9)
                    print(f"{governed:14} {client:6} {sessions:8d} {tool:7} {g_rate:9.0f} {b_rate:9.0f} "
                          f"{g_rate / b_rate:6.2f}")


def arguments(tool: str, key: str) -> dict:
    return {"key": key} if tool == "kv_get" else {"key": key, "value": "v" * 64}


async def seed(url: str, raw: str, keys: list[str]) -> None:
    """Every key exists before measuring, so kv_set is an update on both servers (the same storage calls)."""
    import httpx2
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client

    async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {raw}"}, timeout=30) as http:
        async with Client(streamable_http_client(f"{url}/mcp", http_client=http), mode="legacy", cache=None) as client:
            for key in keys:
                assert not (await client.call_tool("kv_set", arguments("kv_set", key))).is_error


async def batch(sessions: list, call, calls: int) -> int:
    """`calls` calls spread over the sessions, each session calling sequentially, all sessions at once."""
    return await spread(sessions, call, max(1, calls // len(sessions)))


async def warm(sessions: list, call) -> None:
    """Unmeasured calls first: lazy imports, first connections and caches are not what is measured."""
    await spread(sessions, call, 3)


async def spread(sessions: list, call, per_session: int) -> int:
    import anyio

    async def drive(n, session):
        for _ in range(per_session):
            await call(n, session)

    async with anyio.create_task_group() as group:
        for n, session in enumerate(sessions):
            group.start_soon(drive, n, session)
    return per_session * len(sessions)


async def measure_http(server, client: str, raw: str, sessions: int, tool: str, keys, calls: int):
    import httpx2
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client

    from fault_database import jsonrpc_answer

    limits = httpx2.Limits(max_connections=sessions + 4, max_keepalive_connections=sessions + 4)
    async with AsyncExitStack() as stack:
        if client == "SDK":
            opened = []
            for _ in range(sessions):
                http = await stack.enter_async_context(
                    httpx2.AsyncClient(headers={"Authorization": f"Bearer {raw}"}, timeout=60))
                opened.append(await stack.enter_async_context(
                    Client(streamable_http_client(f"{server.url}/mcp", http_client=http), mode="legacy", cache=None)))

            async def call(n, session):
                result = await session.call_tool(tool, arguments(tool, keys[n]))
                assert not result.is_error, result
        else:
            headers = {"Authorization": f"Bearer {raw}", "Accept": "application/json, text/event-stream"}
            http = await stack.enter_async_context(
                httpx2.AsyncClient(base_url=server.url, headers=headers, timeout=60, limits=limits))
            opened = []
            for _ in range(sessions):
                init = await http.post("/mcp", json={"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": INIT})
                session = {"Mcp-Session-Id": init.headers["mcp-session-id"]}
                await http.post("/mcp", headers=session, json={"jsonrpc": "2.0", "method": "notifications/initialized"})
                opened.append(session)
                stack.push_async_callback(http.delete, "/mcp", headers=session)

            async def call(n, session):
                response = await http.post("/mcp", headers=session, json={
                    "jsonrpc": "2.0", "id": 1, "method": "tools/call",
                    "params": {"name": tool, "arguments": arguments(tool, keys[n])}})
                message = jsonrpc_answer(response)
                assert message and "result" in message and not message["result"].get("isError"), response.text

        await warm(opened, call)
        pid = server.process.pid
        started = cpu_seconds(pid)
        done = await batch(opened, call, calls)
        return done, cpu_seconds(pid) - started


async def measure_stdio(command, env, client: str, sessions: int, tool: str, keys, calls: int):
    """One server process per measurement (stdio is one session per process); `sessions` calls in flight."""
    if client == "SDK":
        return await sdk_stdio(command, env, sessions, tool, keys, calls)
    import anyio

    async with await anyio.open_process(command, cwd=ROOT, env=env, stderr=-3) as process:
        reader = JsonLines(process.stdout)

        async def send(message):
            await process.stdin.send((json.dumps(message) + "\n").encode())

        await send({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": INIT})
        await reader.answer(0)
        await send({"jsonrpc": "2.0", "method": "notifications/initialized"})
        waiting: dict[int, anyio.Event] = {}
        answers: dict[int, dict] = {}
        counter = iter(range(1, 10**9))

        async def dispatch():
            while (message := await reader.next()) is not None:
                if message.get("id") in waiting:
                    answers[message["id"]] = message
                    waiting.pop(message["id"]).set()

        async def call(n, _):
            request_id = next(counter)
            answered = waiting[request_id] = anyio.Event()
            await send({"jsonrpc": "2.0", "id": request_id, "method": "tools/call",
                        "params": {"name": tool, "arguments": arguments(tool, keys[n])}})
            await answered.wait()
            message = answers.pop(request_id)
            assert "result" in message and not message["result"].get("isError"), message

        async with anyio.create_task_group() as group:
            group.start_soon(dispatch)
            await warm([None] * sessions, call)
            started = cpu_seconds(process.pid)
            done = await batch([None] * sessions, call, calls)
            cpu = cpu_seconds(process.pid) - started
            group.cancel_scope.cancel()
        await process.stdin.aclose()
        await process.wait()
        return done, cpu


def children() -> set[int]:
    return {int(pid) for task in Path("/proc/self/task").iterdir() for pid in (task / "children").read_text().split()}


async def sdk_stdio(command, env, sessions: int, tool: str, keys, calls: int):
    """The SDK's stdio client; the server is the child process that appears when it connects."""
    from mcp import Client, StdioServerParameters

    before = children()
    params = StdioServerParameters(command=command[0], args=command[1:], env=env, cwd=str(ROOT))
    async with Client(params, mode="legacy", cache=None) as session:
        (pid,) = children() - before

        async def call(n, _):
            result = await session.call_tool(tool, arguments(tool, keys[n]))
            assert not result.is_error, result

        await warm([None] * sessions, call)
        started = cpu_seconds(pid)
        done = await batch([None] * sessions, call, calls)
        return done, cpu_seconds(pid) - started


class JsonLines:
    def __init__(self, stream):
        self.stream, self.buffer = stream, b""

    async def next(self) -> dict | None:
        import anyio

        while b"\n" not in self.buffer:
            try:
                self.buffer += await self.stream.receive()
            except (anyio.EndOfStream, anyio.ClosedResourceError):
                return None
        line, self.buffer = self.buffer.split(b"\n", 1)
        return json.loads(line)

    async def answer(self, request_id) -> dict:
        while (message := await self.next()) is not None:
            if message.get("id") == request_id:
                return message
        raise RuntimeError("the server closed its stdout")


if __name__ == "__main__":
    sys.exit(main())
