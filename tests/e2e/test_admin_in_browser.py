"""The main job as a newcomer meets it: bootstrap a fresh database, serve it, log in to the admin in Chromium."""

import re

import pytest
from playwright import sync_api as playwright

from tests.e2e.browser import launch


@pytest.mark.slow
def test_admin_login_shows_demo_data(chromium, served_fresh_checkout):
    base, password, bootstrap_output, tmp_path = served_fresh_checkout
    with playwright.sync_playwright() as p:
        browser = launch(p)
        page = browser.new_page()
        # Every page runs under the Content-Security-Policy; anything it blocks shows up on the console.
        violations = []
        page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
        login = page.goto(f"{base}/admin/")
        assert "script-src 'self'" in login.headers["content-security-policy"]
        assert login.headers["x-frame-options"] == "DENY"
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
        # A change form with an autocomplete widget (select2 and its AJAX search) works under the policy.
        page.goto(f"{base}/admin/tenants/organization/add/")
        page.click(".field-tenant .select2-selection")
        page.wait_for_selector(".select2-results__option >> text=demo", timeout=15000)
        # Both API docs pages render in the browser from locally served assets (no network beyond loopback).
        page.goto(f"{base}/api/v1/docs/")
        page.wait_for_selector(".swagger-ui .opblock", timeout=15000)
        assert page.locator(".opblock-summary-path", has_text="/api/v1/tenants/").count() >= 1
        page.goto(f"{base}/api/decide/docs")
        page.wait_for_selector(".swagger-ui .opblock", timeout=15000)
        assert page.locator(".opblock-summary-path", has_text="/api/decide/v1/check").count() >= 1
        page.goto(f"{base}/api/v1/redoc/")
        page.wait_for_selector("text=/api/v1/tenants/", timeout=15000)
        browser.close()
    # Redoc's "powered by" logo is the one thing a page asks for from outside this origin; blocking it is the point.
    assert [v for v in violations if "cdn.redoc.ly" not in v] == []
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
