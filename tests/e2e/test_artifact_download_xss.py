"""Issue 8.1, the attack as it was run: a tenant user stores HTML whose script uses the staff session to create an
organization in another tenant; a logged-in staff member opens the artifact's download link in Chromium.
The script must never run: the link is a download, nothing renders on the admin's origin."""

import re
import sqlite3
import subprocess
import sys

import anyio
import pytest
import requests
from playwright import sync_api as playwright

from tests.e2e.browser import ROOT, launch
from tests.mcp.conftest import http_client

VICTIM_SLUG = "victim"
ORG_SLUG = "planted-by-xss"

# Synchronous XHR so the whole attack finishes before the page's load event (no waiting on timers in the test).
ATTACK = """<!doctype html><html><head><title>quarterly report</title></head><body>
<script>
document.title = "xss ran";
localStorage.setItem("xss-ran", "yes");
function get(url) { var x = new XMLHttpRequest(); x.open("GET", url, false); x.send(); return x.responseText; }
var doc = new DOMParser().parseFromString(get("/admin/tenants/organization/add/"), "text/html");
var form = new FormData(doc.querySelector("#organization_form"));
form.set("tenant", "__VICTIM_ID__");
form.set("slug", "__ORG_SLUG__");
form.set("name", "Planted by a tenant's artifact");
var post = new XMLHttpRequest();
post.open("POST", "/admin/tenants/organization/add/", false);
post.send(form);
</script>
<p>Quarterly numbers</p>
</body></html>
"""


@pytest.fixture
def served_extra_env():
    return {"ARTIFACT_INLINE_MAX_BYTES": "64"}  # so artifacts_get hands out a download link


def _manage_shell(env, code: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]  # the shell's own notice about auto-imports comes first


def _victim_tenant(env) -> str:
    return _manage_shell(
        env,
        "from tenants.models import Plan; from tenants.services import tenant_create; "
        "from tenants.services.actors import Actor; "
        f"print(tenant_create(slug={VICTIM_SLUG!r}, name='Victim', plan=Plan.objects.first(), actor=Actor.system()).pk)",
    )


def _store_and_link(base: str, key: str, page: str) -> str:
    async def scenario():
        async with http_client(base, key) as client:
            body = page.encode()
            offer = await client.call_tool(
                "artifacts_put", {"name": "reports/q3.html", "size": len(body), "content_type": "text/html"}
            )
            upload = offer.structured_content
            put = requests.put(upload["upload_url"], data=body, headers=upload["upload_headers"], timeout=10)
            assert put.status_code == 200, put.text
            got = await client.call_tool("artifacts_get", {"name": "reports/q3.html"})
            return got.structured_content["download_url"]

    return anyio.run(scenario)


def _orgs_in(db_path, tenant_id: str) -> list[str]:
    with sqlite3.connect(db_path) as db:
        rows = db.execute(
            "SELECT slug FROM tenants_organization WHERE replace(tenant_id, '-', '') = ?", (tenant_id.replace("-", ""),)
        )
        return [slug for (slug,) in rows]


@pytest.mark.slow
def test_staff_opening_a_tenant_html_artifact_downloads_it_and_no_script_runs(served_fresh_checkout, served_env):
    base, password, bootstrap_output, tmp_path = served_fresh_checkout
    env, _ = served_env
    victim_id = _victim_tenant(env)
    user_key = dict(re.findall(r"^\s+(admin|user|viewer)\s+\S+\s+(cpk_\S+)$", bootstrap_output, re.M))["user"]
    attack = ATTACK.replace("__VICTIM_ID__", victim_id).replace("__ORG_SLUG__", ORG_SLUG)
    link = _store_and_link(base, user_key, attack)
    assert link.startswith(f"{base}/dataplane/artifacts/")

    with playwright.sync_playwright() as p:
        browser = launch(p)
        page = browser.new_page(accept_downloads=True)
        page.goto(f"{base}/admin/")
        page.fill("#id_username", "admin")
        page.fill("#id_password", password)
        page.click("input[type=submit]")
        page.wait_for_url(f"{base}/admin/")

        # The staff member clicks the link from the admin (same tab, as a link in a message or a log would open).
        page.evaluate("url => { const a = document.createElement('a'); a.href = url; a.id = 'artifact-link';"
                      " a.textContent = 'report'; document.body.prepend(a); }", link)
        try:
            with page.expect_download(timeout=15000) as download_info:
                page.click("#artifact-link")
            download = download_info.value
        except playwright.TimeoutError:  # what the old code did: the page rendered and its script ran
            download = None
        page.wait_for_load_state()
        page.goto(f"{base}/admin/")

        # Nothing of the script happened: no organization planted, the origin's storage untouched.
        assert _orgs_in(tmp_path / "db.sqlite3", victim_id) == []
        assert page.evaluate("localStorage.getItem('xss-ran')") is None
        assert download is not None, "the link must be a download"
        assert download.suggested_filename == "q3.html"
        with open(download.path(), "rb") as saved:
            assert saved.read() == attack.encode()
        headers = page.request.get(link).headers
        browser.close()

    assert headers["content-disposition"].startswith("attachment;")
    assert headers["content-type"] == "application/octet-stream"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["content-security-policy"] == "sandbox; default-src 'none'"
