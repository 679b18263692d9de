"""/metrics scraped from the main ASGI app after real MCP calls over HTTP: its counters match the calls made."""

import socket
import subprocess
import sys
import time

import anyio
import httpx2
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tenants.limits import Limit
from tenants.services import tenant_limit_set
from tests.factories import ACTOR, make_tenant
from tests.mcp.conftest import ROOT, http_client, server_env
from tests.mcp.helpers import expect_error, member_key

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def main_app():
    """The README's `make run` deployment: uvicorn serving controlplane.asgi on the test database."""
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "controlplane.asgi:application", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT,
        env=server_env(METRICS_BEARER_TOKEN="scrape-token-for-tests"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx2.get(base + "/healthz", timeout=1)
            break
        except httpx2.TransportError:
            time.sleep(0.1)
    yield base
    process.terminate()
    process.wait(15)


def _samples(text: str) -> dict[tuple, float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def _scrape(base: str) -> dict[tuple, float]:
    response = httpx2.get(base + "/metrics", headers={"Authorization": "Bearer scrape-token-for-tests"})
    assert response.status_code == 200
    return _samples(response.text)


def test_counters_match_the_calls_made_including_refusals(mcp_db, main_app):
    tenant = make_tenant()
    tenant_limit_set(tenant=tenant, limit=Limit.REQUESTS_PER_MINUTE, value=5, actor=ACTOR)
    _, _, user_key = member_key("user", tenant)
    _, _, viewer_key = member_key("viewer", tenant)
    tid = str(tenant.id)

    async def main():
        async with http_client(main_app, user_key) as client:
            for i in range(4):
                assert not (await client.call_tool("kv_set", {"key": f"k{i}", "value": "v"})).is_error
            assert not (await client.call_tool("kv_get", {"key": "k0"})).is_error
            await expect_error(client.call_tool("kv_set", {"key": "", "value": "v"}), -32602)  # invalid
            await expect_error(client.call_tool("kv_get", {"key": "k1"}), -32001)  # 6th counted call in the minute
            await expect_error(client.call_tool("kv_get", {"key": "k2"}), -32001)
        async with http_client(main_app, viewer_key) as client:
            await expect_error(client.call_tool("kv_set", {"key": "x", "value": "v"}), -32602)  # hidden tool

    anyio.run(main)
    samples = _scrape(main_app)

    def calls(tool, outcome):
        key = ("controlplane_mcp_tool_calls_total", (("outcome", outcome), ("tenant", tid), ("tool", tool)))
        return samples.get(key, 0)

    assert calls("kv_set", "ok") == 4
    assert calls("kv_get", "ok") == 1
    assert calls("kv_set", "invalid") == 1
    assert calls("kv_get", "rate_limited") == 2
    assert calls("kv_set", "denied") == 1
    limit_key = (
        "controlplane_mcp_limit_refusals_total",
        (("limit", Limit.REQUESTS_PER_MINUTE), ("outcome", "rate_limited"), ("tenant", tid)),
    )
    assert samples[limit_key] == 2
    assert samples[("controlplane_mcp_tool_call_duration_seconds_count", (("tool", "kv_set"),))] == 6
    assert samples[("controlplane_policy_cache_lookups_total", (("result", "hit"),))] > 0
    assert ("controlplane_outbox_pending_events", ()) in samples
    assert ("controlplane_outbox_oldest_pending_age_seconds", ()) in samples


def test_open_sessions_gauge_counts_live_sessions(mcp_db, main_app):
    _, _, raw = member_key("user")

    async def main():
        async with http_client(main_app, raw) as client:
            await client.call_tool("whoami", {})
            during = _scrape(main_app)
        return during

    during = anyio.run(main)
    assert during[("controlplane_mcp_open_sessions", (("transport", "http"),))] == 1


def test_metrics_need_the_token_when_one_is_set(mcp_db, main_app):
    assert httpx2.get(main_app + "/metrics").status_code == 403
    assert httpx2.get(main_app + "/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 403


def test_without_a_token_only_loopback_scrapes_are_answered(client, settings):
    settings.METRICS_BEARER_TOKEN = ""
    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 403
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 200


def test_made_up_tool_names_do_not_become_label_values(mcp_db, main_app):
    """Each label value is a series the process keeps forever: a tenant calling a thousand invented tool names must
    not grow /metrics by a thousand series (memory and scrape size a tenant could blow up)."""
    _, _, raw = member_key("user")

    async def main():
        async with http_client(main_app, raw) as client:
            for i in range(40):
                await expect_error(client.call_tool(f"no_such_tool_{i}_=HYPERLINK", {}), -32602)

    anyio.run(main)
    text = httpx2.get(main_app + "/metrics", headers={"Authorization": "Bearer scrape-token-for-tests"}).text
    assert "no_such_tool" not in text
    samples = _samples(text)
    others = [labels for (name, labels) in samples if name == "controlplane_mcp_tool_calls_total"
              and ("tool", "other") in labels]
    assert others, "refused calls of unknown tools are still counted, under tool=\"other\""


@pytest.mark.parametrize("header", ["X-Forwarded-For", "Forwarded", "X-Real-IP"])
def test_a_proxied_request_is_not_a_loopback_scrape(client, settings, header):
    """nginx on the same machine makes every outside request arrive from 127.0.0.1: a request a proxy forwarded
    (it carries the proxy's forwarding header) is not a local scrape, whatever address it came from."""
    settings.METRICS_BEARER_TOKEN = ""
    meta = {"HTTP_" + header.upper().replace("-", "_"): "203.0.113.9"}
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1", **meta).status_code == 403
    # Spoofing a loopback forwarder does not help either.
    meta = {"HTTP_" + header.upper().replace("-", "_"): "127.0.0.1"}
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1", **meta).status_code == 403
