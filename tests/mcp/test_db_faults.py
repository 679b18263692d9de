"""Dropped database connections: PostgreSQL terminates every backend of the serving processes between two
requests; the next request on every entry point (bearer check, tool call, watcher, REST, decision API) is
answered normally, on `runmcp --transport http` and on the main ASGI app under uvicorn."""

import re
import subprocess
import sys
import threading
import time

import anyio
import httpx2
import pytest
from django.db import connection

from tenants.models import Role
from tenants.services import role_update
from tests.factories import ACTOR
from tests.mcp.conftest import ROOT, database_url, http_client, server_env
from tests.mcp.helpers import Notifications, in_thread, member_key, tool_names

pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="terminating backends needs PostgreSQL"),
]

_UVICORN_RUNNING = re.compile(r"Uvicorn running on (http://\S+)")


_APPLICATION_NAME = "server-under-fault"


def faulted_env() -> dict:
    """The servers' connections carry an application name, so only theirs are terminated (not the test's)."""
    return {"DATABASE_URL": f"{database_url()}?application_name={_APPLICATION_NAME}"}


def terminate_server_backends() -> int:
    """Every connection of the servers under test, as an operator's pg_terminate_backend would."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND application_name = %s",
            [_APPLICATION_NAME],
        )
        return cursor.fetchone()[0]


class MainApp:
    """`uvicorn controlplane.asgi:application` as `make run` starts it, on a free port."""

    def __init__(self):
        self.process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "controlplane.asgi:application", "--host", "127.0.0.1", "--port", "0"],
            cwd=ROOT, env=server_env(**faulted_env()), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE, text=True,
        )
        self.log: list[str] = []
        self.url = None
        found = threading.Event()

        def read():
            for line in self.process.stderr:
                self.log.append(line)
                match = _UVICORN_RUNNING.search(line)
                if match and not found.is_set():
                    self.url = match.group(1)
                    found.set()
            found.set()

        threading.Thread(target=read, daemon=True).start()
        found.wait(60)
        if self.url is None:
            self.stop()
            raise RuntimeError("uvicorn did not start:\n" + "".join(self.log))

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture
def main_app():
    app = MainApp()
    yield app
    app.stop()


def test_runmcp_http_recovers_from_terminated_backends(mcp_db, http_server_factory):
    server = http_server_factory(**faulted_env())
    anyio.run(_run_with_member, server.url)
    assert not any("Traceback" in line for line in server.log), "".join(server.log)


def test_main_asgi_app_recovers_from_terminated_backends(mcp_db, main_app):
    anyio.run(_run_with_member, main_app.url)
    membership, key, raw = member_key("admin")
    with httpx2.Client(base_url=main_app.url, headers={"Authorization": f"Bearer {raw}"}, timeout=30) as http:
        for _ in range(3):
            # Django's requests in the ASGI app hold no connection between requests; whatever the fault, none fails.
            terminate_server_backends()
            tenants = http.get("/api/v1/tenants/")
            assert tenants.status_code == 200, tenants.text
            terminate_server_backends()
            decision = http.post("/api/decide/v1/check", json={"tool": "kv_set"})
            assert decision.status_code == 200, decision.text
            assert decision.json()["allowed"] is True
    assert not any("Traceback" in line for line in main_app.log), "".join(main_app.log)


async def _run_with_member(url: str) -> None:
    # The role is created first so the member can hold it; the member key is issued in a worker thread.
    role = await in_thread(Role.objects.create, slug="faulty", name="Faulty", capabilities=["kv.read", "kv.write"])
    _, _, raw = await in_thread(member_key, role.slug)
    notifications = Notifications()
    async with http_client(url, raw, message_handler=notifications) as client:
        await client.call_tool("kv_set", {"key": "before", "value": "1"})
        for round_ in range(3):
            assert await in_thread(terminate_server_backends) > 0
            # The bearer check and the tool call both run on connections the database has just dropped.
            written = await client.call_tool("kv_set", {"key": f"after-{round_}", "value": str(round_)})
            assert not written.is_error, written
            read = await client.call_tool("kv_get", {"key": "before"})
            assert read.structured_content["value"] == "1"
        # The watcher loop lost its connection too: it still sees the next policy change.
        assert await in_thread(terminate_server_backends) > 0
        await in_thread(role_update, role=role, capabilities=["kv.read"], actor=ACTOR)
        with anyio.fail_after(5):
            await notifications.arrived.wait()
        assert "kv_set" not in await tool_names(client)


def _kill_this_threads_connection() -> None:
    connection.ensure_connection()
    pid = connection.connection.info.backend_pid
    with connections_other() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])


class connections_other:
    """A second, short-lived connection to the test database (the one to be killed cannot kill itself cleanly)."""

    def __enter__(self):
        import psycopg

        params = connection.get_connection_params()
        self._conn = psycopg.connect(**{k: v for k, v in params.items() if k != "cursor_factory"}, autocommit=True)
        return self._conn.cursor()

    def __exit__(self, *exc):
        self._conn.close()


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [("get", "/api/v1/tenants/", None), ("post", "/api/decide/v1/check", {"tool": "kv_set"})],
)
def test_rest_and_decision_api_answer_503_with_retry_after_when_the_connection_dies_mid_request(
    mcp_db, client, method, path, body
):
    _, _, raw = member_key("admin")
    _kill_this_threads_connection()  # the request's connection is now dead; the test client does not replace it
    try:
        response = getattr(client, method)(
            path, data=body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {raw}"
        )
        assert response.status_code == 503, response.content
        assert response["Retry-After"] == "1"
        assert response.json()["code"] == "unavailable"
    finally:
        connection.close()
