"""Redis faults against a real server: `runmcp --transport http` (and the pipeline in this process) on a
throwaway redis-server that the tests kill and restart. No 500s, one log line per outage, recovery without a
restart, and a write that committed is never reported as failed."""

import anyio
import httpx2
import pytest

from mcpbridge.server.callers import ContextStore
from mcpbridge.server.errors import BACKEND_FAILURE
from mcpbridge.server.limiter import Limiter
from mcpbridge.server.pipeline import CallerInfo, Pipeline
from mcpbridge.server.registry import Tool, ToolRegistry
from mcpbridge.server.telemetry import Telemetry
from mcpbridge.server.tools import data
from mcpbridge.services import kv
from tenants.policy import resolve_api_key
from tests.faults.redis_server import redis_server  # noqa: F401  (fixture)
from tests.mcp.conftest import http_client
from tests.mcp.helpers import expect_error, member_key

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_redis_down_answers_32003_logs_once_and_recovers_without_a_restart(mcp_db, http_server_factory, redis_server):
    _, _, raw = member_key("user")
    server = http_server_factory(REDIS_URL=redis_server.url)

    async def main():
        async with http_client(server.url, raw) as client:
            await client.call_tool("kv_set", {"key": "before", "value": "1"})
        redis_server.kill()
        # A new client while Redis is down: the bearer check and the handshake resolve the key from the database.
        async with http_client(server.url, raw) as client:
            for i in range(20):
                error = await expect_error(client.call_tool("kv_set", {"key": f"k{i}", "value": "v"}), BACKEND_FAILURE)
                assert error.data["reason"] in ("limits_unavailable", "backend_unavailable")
                assert "Redis" not in error.message and "Error" not in error.message
            # A plain HTTP client gets JSON-RPC answers too, never a bare 500.
            async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {raw}"}, timeout=30) as http:
                answer = await http.post(
                    f"{server.url}/mcp",
                    json={"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "whoami", "arguments": {}}},
                    headers={"Accept": "application/json, text/event-stream", "Mcp-Method": "tools/call",
                             "Mcp-Name": "whoami", "Mcp-Protocol-Version": "2026-07-28"},
                )
                assert answer.status_code != 500, answer.text
            redis_server.start()
            result = await client.call_tool("kv_set", {"key": "after", "value": "2"})
            assert not result.is_error
            assert (await client.call_tool("kv_get", {"key": "after"})).structured_content["value"] == "2"

    anyio.run(main)
    log = "".join(server.log)
    assert log.count(" is unavailable (") == 1, log
    assert " is back after " in log
    assert "Traceback" not in log


def test_a_write_that_committed_is_not_reported_failed_when_redis_dies_before_its_slot_is_released(mcp_db, redis_server):
    _, _, raw = member_key("user")
    kv_set = next(tool for tool in data.TOOLS if tool.name == "kv_set")

    def set_then_redis_dies(call):
        stored = kv_set.handler(call)
        redis_server.kill()  # after the write committed, before the call's concurrency slot is released
        return stored

    tool = Tool(
        name="kv_set",
        description=kv_set.description,
        input_model=kv_set.input_model,
        handler=set_then_redis_dies,
        capability=kv_set.capability,
        capacity=kv_set.capacity,
    )
    pipeline = Pipeline(
        registry=ToolRegistry([tool]), limiter=Limiter(redis_server.url), telemetry=Telemetry(), contexts=ContextStore()
    )
    result = pipeline.call_tool(CallerInfo(raw), "kv_set", {"key": "committed", "value": "yes"})
    assert not result.is_error and result.structured_content["key"] == "committed"
    assert kv.kv_get(principal=resolve_api_key(raw), key="committed")["value"] == "yes"
