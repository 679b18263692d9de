"""The README's "Past one machine" recipe, run: four `controlplane.asgi` replicas behind Debian's nginx, sharing
PostgreSQL and Redis. Rate limits hold across the replicas; a replica killed under load costs its clients one
re-initialization (they get the spec's 404 for an unknown session) and no acknowledged write."""

import threading
from contextlib import AsyncExitStack
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import anyio
import httpx2
import pytest
from django.db import connection
from mcp.shared.exceptions import MCPError

from tenants.services import tenant_limit_set
from tests.e2e.replicas import NGINX, Deployment
from tests.factories import ACTOR
from tests.mcp.conftest import TEST_REDIS_URL, http_client, mcp_db, server_env  # noqa: F401  (mcp_db: fixture)
from tests.mcp.helpers import member_key
from tests.mcp.wire import ReplicaLost, SessionGone, WireSession

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

REPLICAS = 4
CLIENTS = 32
STATELESS_CLIENTS = 8
RATE_BUDGET = 240
WRITES_PER_CLIENT = 8


@pytest.fixture
def deployment(mcp_db, tmp_path):  # noqa: F811
    if connection.vendor != "postgresql":
        pytest.skip("several replicas share PostgreSQL; SQLite is the single-process embedded default")
    if not Path(NGINX).exists():
        pytest.skip("needs Debian's nginx (apt-get install nginx; .ci/run installs it)")
    # 32 clients share one key and (through nginx) one address: new-session rates are not what this test measures.
    env = server_env(
        REDIS_URL=TEST_REDIS_URL, CONTROLPLANE_VAR_DIR=str(tmp_path), LOG_LEVEL="WARNING",
        MCP_INITIALIZE_RATE_PER_MINUTE_PER_KEY=100_000, MCP_INITIALIZE_RATE_PER_MINUTE_PER_ADDRESS=100_000,
    )
    deployment = Deployment(REPLICAS, env, tmp_path)
    yield deployment
    deployment.stop()


def tenant_key(requests_per_minute: int) -> str:
    membership, _, raw = member_key("user")
    roomy = {
        "max_concurrent_requests": 1000, "max_mcp_sessions": 1000, "max_mcp_sessions_per_key": 1000, "kv_items": 100_000,
        "dynamodb_read_units_per_second": 100_000, "dynamodb_write_units_per_second": 100_000,
    }
    for limit, value in {**roomy, "requests_per_minute": requests_per_minute}.items():
        tenant_limit_set(tenant=membership.tenant, limit=limit, value=value, actor=ACTOR)
    return raw


def wire(deployment, raw) -> WireSession:
    return WireSession(http=httpx2.Client(timeout=30), url=deployment.url + "/mcp", raw_key=raw)


def test_replicas_share_one_rate_budget_and_survive_a_killed_replica(deployment):
    check_rate_budget_holds_across_replicas(deployment)
    check_killed_replica_loses_no_acknowledged_write(deployment)


def check_rate_budget_holds_across_replicas(deployment):
    raw = tenant_key(RATE_BUDGET)
    attempts_each = (RATE_BUDGET * 3 // 2) // CLIENTS + 1
    outcomes: list[str] = []
    session_replicas: list[str] = []
    lock = threading.Lock()

    def opened_session(_) -> WireSession:
        session = wire(deployment, raw)
        session.initialize()
        with lock:
            session_replicas.append(session.session_id.split(".")[0])
        return session

    def stateful_calls(session: WireSession):
        for _ in range(attempts_each):
            answer = session.call("whoami", {})
            outcome = "ok" if "result" in answer else str(answer["error"]["code"])
            with lock:
                outcomes.append(outcome)

    stateless_ready, connected = threading.Event(), threading.Event()

    async def stateless_clients():
        async def one(client, go: anyio.Event):
            for _ in range(attempts_each):
                await go.wait()
                try:
                    await client.call_tool("whoami", {})
                    outcomes.append("ok")
                except MCPError as exc:
                    outcomes.append(str(exc.code))

        async with AsyncExitStack() as stack:
            clients = []
            try:
                for _ in range(STATELESS_CLIENTS):
                    # The SDK's client negotiates 2026-07-28: no session id, so nginx may send each call anywhere.
                    client = await stack.enter_async_context(http_client(deployment.url, raw, mode="auto"))
                    assert client.protocol_version == "2026-07-28"
                    clients.append(client)
            finally:
                stateless_ready.set()
            go = anyio.Event()
            async with anyio.create_task_group() as group:
                for client in clients:
                    group.start_soon(one, client, go)
                await anyio.to_thread.run_sync(connected.wait)
                go.set()

    with ThreadPoolExecutor(CLIENTS - STATELESS_CLIENTS + 1) as pool:
        stateless = pool.submit(anyio.run, stateless_clients)
        try:
            sessions = list(pool.map(opened_session, range(CLIENTS - STATELESS_CLIENTS)))
            stateless_ready.wait(120)
        finally:
            connected.set()  # every client is connected before the first call counts (and none waits for ever)
        list(pool.map(stateful_calls, sessions))
        stateless.result()

    assert set(session_replicas) == {replica.name for replica in deployment.replicas}
    assert set(outcomes) == {"ok", "-32001"}, outcomes
    admitted = outcomes.count("ok")
    assert abs(admitted - RATE_BUDGET) <= RATE_BUDGET * 0.02, (admitted, len(outcomes))


def check_killed_replica_loses_no_acknowledged_write(deployment):
    raw = tenant_key(1_000_000)
    victim = deployment.replicas[1]
    probe = wire(deployment, raw)
    while not probe.session_id or not probe.session_id.startswith(victim.name + "."):
        probe.initialize()

    acknowledged: dict[str, str] = {}
    reinitialized: list[int] = []
    lock = threading.Lock()
    killed = threading.Event()
    kill_after = CLIENTS * WRITES_PER_CLIENT // 3

    def writer(client: int):
        session = wire(deployment, raw)
        n = failures = 0
        while n < WRITES_PER_CLIENT:
            key, value = f"c{client}/k{n}", f"v{client}-{n}"
            try:
                if session.session_id is None:
                    session.initialize()  # nginx sends a request without a session id to a live replica
                answer = session.call("kv_set", {"key": key, "value": value})
            except (SessionGone, ReplicaLost, httpx2.TransportError):
                # 404: the session's replica is gone; 502 or a cut stream: the request was in flight when it died.
                failures += 1
                assert failures < 10, "a client could not carry on"
                with lock:
                    reinitialized.append(client)
                session.session_id = None
                continue  # the same write is tried again in a new session
            assert answer["result"]["isError"] is False, answer
            with lock:
                acknowledged[key] = value
                if len(acknowledged) >= kill_after and not killed.is_set():
                    killed.set()
                    victim.kill()
            n += 1

    with ThreadPoolExecutor(CLIENTS) as pool:
        list(pool.map(writer, range(CLIENTS)))

    assert killed.is_set() and reinitialized, "the replica was killed under load and its clients moved"
    with pytest.raises(SessionGone):  # the spec's answer for a session the balancer can no longer reach
        probe.call("whoami", {})
    assert len(acknowledged) == CLIENTS * WRITES_PER_CLIENT

    def read_back(keys: list[str]) -> list[str]:
        session = wire(deployment, raw)
        session.initialize()
        return [
            key for key in keys
            if session.call("kv_get", {"key": key})["result"]["structuredContent"].get("value") != acknowledged[key]
        ]

    keys = sorted(acknowledged)
    with ThreadPoolExecutor(16) as pool:
        lost = [key for missing in pool.map(read_back, [keys[i::16] for i in range(16)]) for key in missing]
    assert lost == []
