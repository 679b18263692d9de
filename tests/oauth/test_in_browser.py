"""The whole story in headless Chromium: the SDK's OAuth provider sends the person to the browser, who signs in
and consents; the client calls tools, refreshes; staff revoke the grant in the admin and the next call fails."""

import time
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import anyio
import pytest
from django.contrib.auth import get_user_model
from mcp.shared.auth import AuthorizationCodeResult
from playwright.async_api import async_playwright

from oauthserver.models import OAuthClient, OAuthGrant
from tests.e2e.browser import CHROMIUM_ARGS, chromium_or_fail
from tests.factories import make_tenant
from tests.mcp.helpers import ROLE_TOOLS, tool_names
from tests.oauth.conftest import (
    PASSWORD,
    REDIRECT_URI,
    MemoryStorage,
    mcp_status,
    oauth_mcp_client,
    oauth_provider,
    person_in,
)
from tests.oauth.documents import DocumentServer

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


class PersonInChromium:
    """Signs in and consents in a real browser; the redirect back to the client is caught on its way out."""

    def __init__(self, username: str, tenant: str, screenshots: Path):
        self.username, self.tenant, self.screenshots = username, tenant, screenshots
        self.returned_to: str | None = None

    async def redirect(self, url: str) -> None:
        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path=chromium_or_fail(), args=CHROMIUM_ARGS, headless=True)
            page = await browser.new_page()

            async def client_callback(route):
                self.returned_to = route.request.url
                await route.fulfill(status=200, body="Signed in; you can close this window.")

            await page.route(REDIRECT_URI.rsplit("/", 1)[0] + "/**", client_callback)
            await page.goto(url)
            await page.fill("#id_username", self.username)
            await page.fill("#id_password", PASSWORD)
            await page.click("input[type=submit]")
            await page.wait_for_selector("#consent-choices")
            await page.screenshot(path=str(self.screenshots / "consent.png"), full_page=True)
            await page.locator("#consent-choices tr", has_text=f"({self.tenant})").locator("input[type=radio]").check()
            await page.click("button[value=allow]")
            deadline = time.monotonic() + 15
            while self.returned_to is None and time.monotonic() < deadline:
                await anyio.sleep(0.1)
            await browser.close()

    async def callback(self) -> AuthorizationCodeResult:
        query = parse_qs(urlparse(self.returned_to).query)
        return AuthorizationCodeResult(code=query["code"][0], state=query["state"][0])


async def revoke_in_admin(base: str, password: str) -> None:
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=chromium_or_fail(), args=CHROMIUM_ARGS, headless=True)
        page = await browser.new_page()
        await page.goto(f"{base}/admin/login/?next=/admin/oauthserver/oauthgrant/")
        await page.fill("#id_username", "root")
        await page.fill("#id_password", password)
        await page.click("input[type=submit]")
        await page.wait_for_selector("#result_list")
        await page.check("#result_list input.action-select")
        await page.select_option("select[name=action]", "revoke_grants")
        await page.click("button[name=index]")
        await page.wait_for_selector("ul.messagelist")
        await browser.close()


@pytest.mark.parametrize("identification", ["metadata_document", "dynamic"])
def test_connect_in_the_browser_call_refresh_and_revoke_in_the_admin(control_plane, tmp_path, identification):
    chromium_or_fail()
    alpha, beta = make_tenant("alpha"), make_tenant("beta")
    user = person_in((alpha, "user"), (beta, "viewer"))
    staff = get_user_model().objects.create_superuser("root", "root@example.com", None)
    staff.password = user.password  # the same test password, hashed as the server can check it
    staff.save()
    server = control_plane(OAUTH_CLIENT_METADATA_ALLOW_PRIVATE=1)
    person = PersonInChromium(user.username, "alpha", tmp_path)
    storage = MemoryStorage()
    auth = oauth_provider(server.url, person, storage)
    documents = DocumentServer()
    if identification == "metadata_document":
        url = documents.base + "/assistant.json"
        documents.publish(
            "/assistant.json", {"client_id": url, "client_name": "Browser assistant", "redirect_uris": [REDIRECT_URI]}
        )
        # The SDK accepts only https document URLs; the development setting lets the server take a loopback one.
        auth.context.client_metadata_url = url

    async def main():
        async with oauth_mcp_client(server.url, auth) as client:
            assert await tool_names(client) == ROLE_TOOLS["user"]
            assert (await client.call_tool("whoami", {})).structured_content["tenant"]["slug"] == "alpha"
            await client.call_tool("kv_set", {"key": "greeting", "value": "hello"})
            auth.context.token_expiry_time = time.time() - 1  # due for a refresh
            got = (await client.call_tool("kv_get", {"key": "greeting"})).structured_content
            assert got["value"] == "hello"

    try:
        anyio.run(main)
    finally:
        documents.close()
    assert (tmp_path / "consent.png").exists()
    assert OAuthClient.objects.get().kind == identification
    assert OAuthGrant.objects.get().membership.tenant == alpha
    token = storage.tokens.access_token
    assert mcp_status(server.url, token) != 401
    anyio.run(revoke_in_admin, server.url, PASSWORD)
    assert OAuthGrant.objects.get().revoked_at is not None
    assert mcp_status(server.url, token) == 401
