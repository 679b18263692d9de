"""The main job as a newcomer meets it: bootstrap a fresh database, serve it, log in to the admin in Chromium."""

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from playwright import sync_api as playwright

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def served_fresh_checkout(tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "controlplane.settings",
        "DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3",
        "CONTROLPLANE_VAR_DIR": str(tmp_path),
        "CELERY_BROKER_URL": "",
        "DATAPLANE_BACKEND": "local",
    }
    env.pop("DJANGO_SUPERUSER_PASSWORD", None)
    env.pop("DJANGO_SUPERUSER_USERNAME", None)
    setup = subprocess.run(
        [sys.executable, "manage.py", "bootstrap"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert setup.returncode == 0, setup.stderr
    password = re.search(r"Password:\s+(\S+)", setup.stdout).group(1)
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=env, check=True, timeout=120
    )
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "controlplane.asgi:application", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            time.sleep(0.2)
    yield base, password, setup.stdout, tmp_path
    server.terminate()
    server.wait(timeout=10)


@pytest.mark.slow
def test_admin_login_shows_demo_data(chromium, served_fresh_checkout):
    base, password, bootstrap_output, tmp_path = served_fresh_checkout
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS, headless=True)
        page = browser.new_page()
        page.goto(f"{base}/admin/")
        page.fill("#id_username", "admin")
        page.fill("#id_password", password)
        page.click("input[type=submit]")
        page.wait_for_url(f"{base}/admin/")
        assert "Tenancy and policy" in page.content()
        page.goto(f"{base}/admin/tenants/tenant/")
        assert page.locator("#result_list").get_by_text("demo", exact=True).count() == 1
        page.goto(f"{base}/admin/tenants/membership/")
        for role in ("demo-admin", "demo-user", "demo-viewer"):
            assert page.locator("#result_list").get_by_text(role).count() >= 1
        # The admin's stylesheet is served by the same process (no separate web server needed).
        css = page.request.get(f"{base}/static/admin/css/base.css")
        assert css.status == 200
        page.screenshot(path=str(tmp_path / "admin.png"), full_page=True)
        # Both API docs pages render in the browser from locally served assets (no network beyond loopback).
        page.goto(f"{base}/api/v1/docs/")
        page.wait_for_selector(".swagger-ui .opblock", timeout=15000)
        assert page.locator(".opblock-summary-path", has_text="/api/v1/tenants/").count() >= 1
        page.goto(f"{base}/api/decide/docs")
        page.wait_for_selector(".swagger-ui .opblock", timeout=15000)
        assert page.locator(".opblock-summary-path", has_text="/api/decide/v1/check").count() >= 1
        browser.close()
    # The keys the bootstrap printed are real and stay out of the page.
    assert re.findall(r"cpk_\w{8}_\S+", bootstrap_output)


@pytest.mark.slow
def test_main_asgi_app_serves_mcp_beside_the_admin(served_fresh_checkout):
    import anyio

    from tests.mcp.conftest import http_client

    base, _, bootstrap_output, _ = served_fresh_checkout
    keys = dict(re.findall(r"^\s+(admin|user|viewer)\s+\S+\s+(cpk_\S+)$", bootstrap_output, re.M))

    async def scenario():
        async with http_client(base, keys["user"]) as client:
            tools = {tool.name for tool in (await client.list_tools()).tools}
            assert "kv_set" in tools and "secrets_put" not in tools
            await client.call_tool("kv_set", {"key": "greeting", "value": "hello"})
            got = await client.call_tool("kv_get", {"key": "greeting"})
            assert got.structured_content["value"] == "hello"
        async with http_client(base, keys["viewer"], mode="auto") as client:
            tools = {tool.name for tool in (await client.list_tools()).tools}
            assert "kv_set" not in tools and "kv_get" in tools
            # The viewer works in its own personal namespace: the user's item is not there.
            missing = await client.call_tool("kv_get", {"key": "greeting"})
            assert missing.is_error

    anyio.run(scenario)
