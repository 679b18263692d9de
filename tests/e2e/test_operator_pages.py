"""An operator's walk through the admin in Chromium: overview, a tenant's page (charts, quota bars, status
buttons), and every changelist at 1366 px. Screenshots go to E2E_ARTIFACTS_DIR (default: the test's tmp dir)."""

import os
import re
from pathlib import Path

import anyio
import pytest
from mcp.shared.exceptions import MCPError
from playwright import sync_api as playwright

from tests.e2e.browser import launch

LAPTOP = {"width": 1366, "height": 768}
# Every changelist an operator reads (item 6 of issue 11): none may scroll sideways at 1366 px.
CHANGELISTS = [
    "tenants/tenant",
    "tenants/organization",
    "tenants/membership",
    "tenants/orgmembership",
    "tenants/role",
    "tenants/plan",
    "tenants/limitoverride",
    "tenants/apikey",
    "tenants/auditevent",
    "tenants/usagecounter",
    "mcpbridge/mcpsession",
    "mcpbridge/outboxevent",
    "mcpbridge/quotausage",
]


@pytest.fixture
def artifacts(tmp_path) -> Path:
    where = Path(os.environ.get("E2E_ARTIFACTS_DIR") or tmp_path / "artifacts")
    where.mkdir(parents=True, exist_ok=True)
    return where


def _make_traffic(base: str, bootstrap_output: str) -> None:
    """Real MCP calls over HTTP, so the pages have audit rows, usage counters, storage and refusals to show."""
    from tests.mcp.conftest import http_client

    keys = dict(re.findall(r"^\s+(admin|user|viewer)\s+\S+\s+(cpk_\S+)$", bootstrap_output, re.M))

    async def scenario():
        async with http_client(base, keys["user"]) as client:
            for i in range(3):
                await client.call_tool("kv_set", {"key": f"k{i}", "value": "v"})
            await client.call_tool("artifacts_put", {"name": "report.txt", "content": "x" * 4096})
        async with http_client(base, keys["viewer"]) as client:
            with pytest.raises(MCPError):  # a viewer may not write: refused and audited as denied
                await client.call_tool("kv_set", {"key": "nope", "value": "v"})

    anyio.run(scenario)


def _log_in(page, base: str, password: str) -> None:
    page.goto(f"{base}/admin/")
    page.fill("#id_username", "admin")
    page.fill("#id_password", password)
    page.click("input[type=submit]")
    page.wait_for_url(f"{base}/admin/")


def _chart_loaded(page, section: str) -> bool:
    """The SVG image arrived and decoded (a broken or blocked image has no natural width)."""
    page.wait_for_function(
        "s => { const img = document.querySelector(s + ' img.ops-chart'); return img && img.complete; }", arg=section
    )
    return page.eval_on_selector(f"{section} img.ops-chart", "img => img.naturalWidth > 0")


@pytest.mark.slow
def test_operator_reads_overview_and_suspends_and_resumes_a_tenant(served_fresh_checkout, artifacts):
    base, password, bootstrap_output, _ = served_fresh_checkout
    _make_traffic(base, bootstrap_output)
    with playwright.sync_playwright() as p:
        browser = launch(p)
        page = browser.new_page(viewport=LAPTOP)
        violations = []
        page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
        _log_in(page, base, password)

        page.click("text=Overview")
        page.wait_for_url(f"{base}/admin/overview/")
        assert page.locator("#tenants-by-status tr", has_text="Active").locator(".ops-num").inner_text() == "1"
        busiest = page.locator("#busiest tbody tr").first
        assert busiest.locator("td").first.inner_text() == "demo"
        assert int(busiest.locator("td").nth(1).inner_text()) >= 4
        assert page.locator("#refusals tbody tr", has_text="Denied").count() >= 1
        page.screenshot(path=str(artifacts / "operator-overview.png"), full_page=True)

        busiest.locator("a").click()
        page.wait_for_selector("#quota-bars")
        assert _chart_loaded(page, "#chart-tool-calls") and _chart_loaded(page, "#chart-storage")
        storage = page.locator("#quota-bars tr[data-limit=storage_bytes]")
        assert storage.locator("meter").count() == 1 and "4.0\xa0KB / 1.0\xa0GB" in storage.inner_text()
        assert page.locator("#quota-bars meter").count() >= 6
        page.screenshot(path=str(artifacts / "operator-tenant.png"), full_page=True)

        page.click("#tenant-status button:has-text('Suspend')")
        page.wait_for_selector(".messagelist >> text=Suspended demo")
        assert page.locator("#tenant-status strong").inner_text() == "Suspended"
        page.screenshot(path=str(artifacts / "operator-tenant-suspended.png"), full_page=True)
        page.click("#tenant-status button:has-text('Resume')")
        page.wait_for_selector(".messagelist >> text=Resumed demo")
        assert page.locator("#tenant-status strong").inner_text() == "Active"

        # Offboarding asks first; cancelling changes nothing.
        page.click("#tenant-status a:has-text('Offboard')")
        page.wait_for_selector("#confirm_slug")
        page.screenshot(path=str(artifacts / "operator-offboard-confirm.png"), full_page=True)
        page.click("text=Cancel")
        assert page.locator("#tenant-status strong").inner_text() == "Active"
        browser.close()
    assert violations == []


@pytest.mark.slow
def test_every_changelist_fits_a_1366_px_screen(served_fresh_checkout, artifacts):
    base, password, bootstrap_output, _ = served_fresh_checkout
    _make_traffic(base, bootstrap_output)
    with playwright.sync_playwright() as p:
        browser = launch(p)
        page = browser.new_page(viewport=LAPTOP)
        _log_in(page, base, password)
        overflowing = {}
        for changelist in CHANGELISTS:
            page.goto(f"{base}/admin/{changelist}/")
            page.wait_for_selector("#changelist")
            widths = page.evaluate(
                "() => ({page: document.documentElement.scrollWidth, view: document.documentElement.clientWidth,"
                " table: (document.querySelector('#result_list') || {}).scrollWidth || 0,"
                " box: (document.querySelector('.results') || {}).clientWidth || 0})"
            )
            if widths["page"] > widths["view"] or widths["table"] > widths["box"]:
                overflowing[changelist] = widths
            page.screenshot(path=str(artifacts / f"changelist-{changelist.replace('/', '-')}.png"))
        browser.close()
    assert overflowing == {}, f"wider than the screen: {sorted(overflowing)}"
