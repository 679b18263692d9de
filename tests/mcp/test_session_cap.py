"""max_mcp_sessions holds when sessions are opened at the same moment: in threads of one process, and through
two `runmcp --transport http` processes sharing the database. Each attempt uses a key of its own: a key at a
cap makes room among its own idle sessions (tests/mcp/test_session_reclaim.py), never among other keys'."""

import threading

import anyio
import pytest
from django.db import connection

from mcpbridge.models import McpSession
from mcpbridge.server.errors import Refusal
from mcpbridge.server.sessions import SessionRegistry
from tenants.policy import resolve_api_key
from tenants.services import tenant_limit_set
from tests.factories import ACTOR, make_tenant
from tests.mcp.conftest import http_client
from tests.mcp.helpers import member_key

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

CAP = 2


def open_sessions(tenant) -> int:
    return McpSession.objects.filter(tenant=tenant, ended_at__isnull=True).count()


def test_threads_opening_sessions_at_once_never_exceed_the_tenant_cap(mcp_db):
    threads_per_tenant = 12
    membership, _, _ = member_key("user")
    tenant_limit_set(tenant=membership.tenant, limit="max_mcp_sessions", value=CAP, actor=ACTOR)
    principals = [resolve_api_key(member_key("user", tenant=membership.tenant)[2]) for _ in range(threads_per_tenant)]
    registry = SessionRegistry(transport=McpSession.Transport.HTTP, idle_seconds=600)
    # Another tenant opening sessions at the same moment has its own cap and does not eat this one's.
    other_membership, _, _ = member_key("user", tenant=make_tenant())
    tenant_limit_set(tenant=other_membership.tenant, limit="max_mcp_sessions", value=CAP, actor=ACTOR)
    others = [
        resolve_api_key(member_key("user", tenant=other_membership.tenant)[2]) for _ in range(threads_per_tenant)
    ]
    principal, other = principals[0], others[0]
    start = threading.Barrier(threads_per_tenant * 2)
    outcomes: list[tuple[str, str]] = []
    lock = threading.Lock()

    def attempt(who):
        try:
            start.wait(10)
            registry.open(principal=who, raw_key="", protocol_version="2025-11-25")
            outcome = "opened"
        except Refusal as refusal:
            outcome = "refused" if "sessions" in refusal.message else f"error: {refusal.message}"
        except Exception as exc:  # noqa: BLE001 - a database error here fails the test, reported below
            outcome = f"error: {exc!r}"
        finally:
            connection.close()
        with lock:
            outcomes.append((who.tenant_id, outcome))

    threads = [threading.Thread(target=attempt, args=(who,)) for pair in zip(principals, others) for who in pair]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert len(outcomes) == threads_per_tenant * 2
    assert not [outcome for _, outcome in outcomes if outcome.startswith("error")], outcomes
    for who in (principal, other):
        assert sum(1 for tenant_id, outcome in outcomes if tenant_id == who.tenant_id and outcome == "opened") == CAP
    assert open_sessions(membership.tenant) == CAP
    assert open_sessions(other_membership.tenant) == CAP


def test_two_server_processes_opening_sessions_at_once_never_exceed_the_tenant_cap(mcp_db, http_server_factory):
    servers = [http_server_factory(), http_server_factory()]
    membership, _, _ = member_key("user")
    tenant_limit_set(tenant=membership.tenant, limit="max_mcp_sessions", value=CAP, actor=ACTOR)
    attempts = 10
    raws = [member_key("user", tenant=membership.tenant)[2] for _ in range(attempts)]
    opened, refused = [], []

    async def main():
        settled = anyio.Event()
        release = anyio.Event()

        def note(bucket, value):
            bucket.append(value)
            if len(opened) + len(refused) == attempts:
                settled.set()

        async def attempt(url, raw):
            try:
                async with http_client(url, raw) as client:
                    await client.call_tool("whoami", {})
                    note(opened, url)
                    await release.wait()  # hold the session open until every attempt has settled
            except Exception as exc:  # noqa: BLE001 - any refusal, whatever shape the client gives it
                if not release.is_set():
                    note(refused, repr(exc))

        async with anyio.create_task_group() as tg:
            for i in range(attempts):
                tg.start_soon(attempt, servers[i % 2].url, raws[i])
            with anyio.fail_after(60):
                await settled.wait()
            rows = await anyio.to_thread.run_sync(open_sessions, membership.tenant)
            release.set()
        return rows

    rows = anyio.run(main)
    assert len(opened) == CAP, (opened, refused)
    assert rows == CAP
    assert all("sessions" in message for message in refused), refused
    assert all("Traceback" not in message for message in refused)
