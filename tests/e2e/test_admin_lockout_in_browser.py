"""Admin brute force against the real ASGI app in Chromium: the lockout page is an admin page, and audited."""

import json
import sqlite3

import pytest
from playwright import sync_api as playwright

from tests.e2e.browser import launch

FAILURE_LIMIT = 5  # ADMIN_LOGIN_FAILURE_LIMIT's default


def _submit_login(page, base: str, password: str):
    page.goto(f"{base}/admin/login/")
    page.fill("#id_username", "admin")
    page.fill("#id_password", password)
    with page.expect_response(lambda response: response.request.method == "POST") as answer:
        page.click("input[type=submit]")
    return answer.value


@pytest.mark.slow
def test_repeated_failed_admin_logins_lock_out_with_an_admin_page_and_are_audited(chromium, served_fresh_checkout):
    base, password, _, tmp_path = served_fresh_checkout
    with playwright.sync_playwright() as p:
        browser = launch(p)
        page = browser.new_page()
        statuses = [_submit_login(page, base, "wrong-password").status for _ in range(FAILURE_LIMIT)]
        assert statuses == [200] * (FAILURE_LIMIT - 1) + [429]
        assert "Too many failed logins" in page.content()
        # Rendered inside the admin's own layout, with its stylesheet, and a way back to the login form.
        assert page.locator("link[href*='admin/css/base.css']").count() == 1
        assert page.locator("a[href='/admin/login/']").count() == 1
        # While locked out, even the right password is refused.
        assert _submit_login(page, base, password).status == 429
        page.goto(f"{base}/admin/")
        assert "/admin/login/" in page.url
        browser.close()

    with sqlite3.connect(tmp_path / "db.sqlite3") as db:
        rows = db.execute(
            "SELECT actor, outcome, count, details FROM tenants_auditevent WHERE action = 'auth_failure'"
        ).fetchall()
    counted: dict[tuple, int] = {}  # summed over the minutes the test may straddle
    for actor, outcome, count, details in rows:
        key = (json.loads(details)["reason"], actor, outcome)
        counted[key] = counted.get(key, 0) + count
    assert counted[("login_failed", "user:admin", "denied")] == FAILURE_LIMIT + 1
    assert counted[("locked_out", "user:admin", "rate_limited")] >= 1
    assert {key[0] for key in counted} == {"login_failed", "locked_out"}
