"""An operator in Chromium: reads a one-line audit entry, filters and exports the audit CSV, asks explain access
why a viewer's key may not write, and copies client configurations (from the key's page and from the one-time
page after a rotation) through the copy buttons, with no Content-Security-Policy violation on the way.

Screenshots go to $E2E_ARTIFACTS_DIR (default: the test's tmp_path): audit-list.png, audit-filtered.png,
explain-access-denied.png, connect-client-key-page.png, connect-client-one-time.png."""

import csv
import io
import json
import os
import re
import shlex
from pathlib import Path

import pytest
from playwright import sync_api as playwright

from tests.e2e.browser import launch


def _artifacts(tmp_path) -> Path:
    where = Path(os.environ.get("E2E_ARTIFACTS_DIR") or tmp_path)
    where.mkdir(parents=True, exist_ok=True)
    return where


def _select_and_run(page, row_text: str, action: str):
    page.locator("#result_list tr", has_text=row_text).locator("input.action-select").check()
    page.select_option("select[name=action]", action)
    page.click("button[name=index]")


@pytest.mark.slow
def test_operator_reads_audit_exports_explains_and_connects(chromium, served_fresh_checkout):
    base, password, bootstrap_output, tmp_path = served_fresh_checkout
    shots = _artifacts(tmp_path)
    keys = dict(re.findall(r"^\s+(admin|user|viewer)\s+\S+\s+(cpk_\S+)$", bootstrap_output, re.M))
    viewer_prefix = keys["viewer"][: len("cpk_") + 8]
    with playwright.sync_playwright() as p:
        browser = launch(p)
        context = browser.new_context(accept_downloads=True, viewport={"width": 1366, "height": 900})
        context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base)
        page = context.new_page()
        violations = []
        page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
        page.goto(f"{base}/admin/")
        page.fill("#id_username", "admin")
        page.fill("#id_password", password)
        page.click("input[type=submit]")
        page.wait_for_url(f"{base}/admin/")

        # Suspend and resume the demo tenant, then read what the audit list says about it.
        page.goto(f"{base}/admin/tenants/tenant/")
        _select_and_run(page, "demo", "suspend_tenants")
        page.wait_for_selector(".messagelist")
        _select_and_run(page, "demo", "resume_tenants")
        page.wait_for_selector(".messagelist")
        page.goto(f"{base}/admin/tenants/auditevent/")
        entry = page.locator("#result_list tbody tr", has_text="suspended tenant demo").first
        assert entry.locator("td.field-summary").inner_text() == "suspended tenant demo"
        page.screenshot(path=str(shots / "audit-list.png"), full_page=True)

        # Filter by tenant (typed in the sidebar) and export exactly what the list shows, as CSV.
        page.fill("input[name=tenant_slug]", "demo")
        page.press("input[name=tenant_slug]", "Enter")
        page.wait_for_url(re.compile(r"tenant_slug=demo"))
        page.screenshot(path=str(shots / "audit-filtered.png"), full_page=True)
        with page.expect_download() as download_info:
            page.click("a.audit-export")
        download = download_info.value
        assert download.suggested_filename.startswith("audit-") and download.suggested_filename.endswith(".csv")
        rows = list(csv.DictReader(io.StringIO(Path(download.path()).read_text())))
        assert rows and {row["tenant"] for row in rows} == {"demo"}
        summaries = [row["summary"] for row in rows]
        assert "suspended tenant demo" in summaries and "resumed tenant demo" in summaries

        # Explain access: the viewer's key may not call kv_set, and the page says why.
        page.goto(f"{base}/admin/tenants/membership/")
        page.click("text=Explain access")
        page.fill("input[name=key]", viewer_prefix)
        page.select_option("select[name=tool]", "kv_set")
        page.click("#explain-access-form input[type=submit]")
        answer = page.locator("#explain-answer")
        assert "DENY" in answer.locator(".explain-verdict").inner_text()
        reasons = answer.locator(".explain-reasons").inner_text()
        assert "role 'viewer' in context personal does not grant kv.write" in reasons
        assert answer.locator(".explain-links a", has_text="membership of").count() == 1
        page.screenshot(path=str(shots / "explain-access-denied.png"), full_page=True)

        # The key's own page: copy the desktop (stdio) configuration; the key is a placeholder there.
        page.goto(f"{base}/admin/tenants/apikey/?q={viewer_prefix}")
        page.click(f"#result_list a:text-is('{viewer_prefix}')")
        stdio = page.locator(".client-config[data-config=stdio]")
        stdio.locator("button.copy-button").click()
        playwright.expect(stdio.locator("button.copy-button")).to_have_text("Copied")
        copied = json.loads(page.evaluate("navigator.clipboard.readText()"))
        server = copied["mcpServers"]["controlplane-demo"]
        assert server["args"][-1] == "runmcp" and server["args"][0].endswith("manage.py")
        assert server["env"] == {"CONTROLPLANE_API_KEY": f"<API key {viewer_prefix}…>"}
        page.screenshot(path=str(shots / "connect-client-key-page.png"), full_page=True)

        # Rotate the key: the one-time page's Inspector command line carries the new raw key.
        page.goto(f"{base}/admin/tenants/apikey/?q={viewer_prefix}")
        _select_and_run(page, viewer_prefix, "rotate_keys")
        raw = page.locator("code.raw-api-key").inner_text()
        inspector = page.locator(".client-config[data-config=inspector]")
        inspector.locator("button.copy-button").click()
        playwright.expect(inspector.locator("button.copy-button")).to_have_text("Copied")
        command = shlex.split(page.evaluate("navigator.clipboard.readText()"))
        assert command[:3] == ["npx", "@modelcontextprotocol/inspector", "--cli"] and command[3].endswith("/mcp")
        assert f"Authorization: Bearer {raw}" in command
        page.screenshot(path=str(shots / "connect-client-one-time.png"), full_page=True)
        browser.close()
    assert violations == []
