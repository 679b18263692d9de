"""The HTTP bearer check runs on every request, so what it costs is paid per call: no worker-thread hop for an
API key this process resolved at the current policy version (known from the shared version file), else one
hop whatever the credential, and no database round trip to health-check the thread's kept connection first (a
connection the database dropped is replaced by a retry instead: tests/mcp/test_db_faults.py)."""

import anyio
import pytest
from anyio import to_thread
from django.db import connections

from mcpbridge.transports import http
from mcpbridge.transports.http import ApiKeyTokenVerifier
from tests.mcp.helpers import member_key
from tests.oauth.factories import RESOURCE, oauth_tokens

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def hops(monkeypatch):
    """Counts the bearer check's worker-thread hops (each one wakes a thread and the event loop again)."""
    counted = []
    run_sync = to_thread.run_sync

    async def counting(function, *args, **kwargs):
        counted.append(function)
        return await run_sync(function, *args, **kwargs)

    monkeypatch.setattr(http.to_thread, "run_sync", counting)
    return counted


@pytest.fixture
def health_checks(monkeypatch):
    """Health checks of the worker threads' kept connections (with CONN_HEALTH_CHECKS, as serving processes
    keep them): each one is a round trip to PostgreSQL."""
    checked = []
    settings_dict = connections["default"].settings_dict
    monkeypatch.setitem(settings_dict, "CONN_MAX_AGE", 300)
    monkeypatch.setitem(settings_dict, "CONN_HEALTH_CHECKS", True)
    wrapper_class = type(connections["default"])
    is_usable = wrapper_class.is_usable

    def counting(self):
        checked.append(self)
        return is_usable(self)

    monkeypatch.setattr(wrapper_class, "is_usable", counting)
    return checked


@pytest.fixture
def version_file(settings, tmp_path):
    """The shared policy version file: SQLite has it by default, PostgreSQL only when configured."""
    if connections["default"].vendor != "sqlite":
        settings.POLICY_VERSION_FILE = str(tmp_path / "policy-version")


def _verify(verifier: ApiKeyTokenVerifier, token: str, times: int):
    async def main():
        return [await verifier.verify_token(token) for _ in range(times)]

    return anyio.run(main)


def test_an_api_key_costs_one_hop_the_first_time_and_none_while_policy_is_unchanged(mcp_db, hops, health_checks, version_file):
    membership, key, raw = member_key("user")
    verified = _verify(ApiKeyTokenVerifier(resource=RESOURCE), raw, 3)
    assert all(access.client_id == key.prefix for access in verified)
    assert all(access._resolution.api_key_id == str(key.pk) for access in verified)
    assert len(hops) == 1
    assert health_checks == []


def test_without_the_version_file_every_api_key_check_takes_one_hop(mcp_db, hops, health_checks, settings):
    settings.POLICY_VERSION_FILE = "off"
    membership, key, raw = member_key("user")
    verified = _verify(ApiKeyTokenVerifier(resource=RESOURCE), raw, 3)
    assert all(access.client_id == key.prefix for access in verified)
    assert len(hops) == 3
    assert health_checks == []


def test_a_revocation_refuses_the_next_request_without_a_hop_in_between(mcp_db, hops, version_file):
    from tenants.services import Actor, api_key_revoke

    membership, key, raw = member_key("user")
    verifier = ApiKeyTokenVerifier(resource=RESOURCE)
    assert _verify(verifier, raw, 2)[1] is not None
    api_key_revoke(api_key=key, actor=Actor("test"))
    assert _verify(verifier, raw, 1) == [None]


def test_a_suspended_tenant_is_let_through_for_the_pipeline_to_answer_from_memory_too(mcp_db, hops, version_file):
    from tenants.policy import ResolutionError
    from tenants.services import Actor, tenant_suspend

    membership, key, raw = member_key("user")
    tenant_suspend(tenant=membership.tenant, actor=Actor("test"))
    verified = _verify(ApiKeyTokenVerifier(resource=RESOURCE), raw, 3)
    assert all(isinstance(access._resolution, ResolutionError) for access in verified)
    assert {access._resolution.reason.value for access in verified} == {"tenant_suspended"}
    assert len(hops) == 1


def test_an_oauth_token_costs_one_hop_and_is_held_by_its_client_and_member(mcp_db, hops, health_checks):
    membership, _, _ = member_key("user")
    tokens = oauth_tokens(membership)
    (access,) = _verify(ApiKeyTokenVerifier(resource=RESOURCE), tokens.access_token, 1)
    client_id, membership_id = access.client_id.split(" ")
    assert client_id.startswith("test-client-") and membership_id == str(membership.pk)
    assert len(hops) == 1
    assert health_checks == []


def test_unknown_keys_still_get_no_token(mcp_db, hops):
    _, _, raw = member_key("user")
    assert _verify(ApiKeyTokenVerifier(resource=RESOURCE), raw[:-4] + "xxxx", 1) == [None]


def test_an_oauth_token_costs_one_hop_the_first_time_and_none_while_policy_is_unchanged(mcp_db, hops, version_file):
    membership, key, _ = member_key("user")
    tokens = oauth_tokens(membership)
    verified = _verify(ApiKeyTokenVerifier(resource=RESOURCE), tokens.access_token, 3)
    assert len({access.client_id for access in verified}) == 1
    assert all(access._resolution.oauth_client and access._resolution.tenant_id == str(membership.tenant_id) for access in verified)
    assert len(hops) == 1


def test_a_revoked_oauth_token_is_refused_on_the_next_request(mcp_db, hops, version_file):
    from oauthserver.models import OAuthToken
    from oauthserver.services.tokens import refresh_token_rotate, token_revoke
    from tenants.policy.keys import key_digest

    membership, _, _ = member_key("user")
    tokens = oauth_tokens(membership)
    verifier = ApiKeyTokenVerifier(resource=RESOURCE)
    assert None not in _verify(verifier, tokens.access_token, 2)
    first = OAuthToken.objects.get(digest=key_digest(tokens.access_token))
    # A second access token of the same grant, used after the revocation, brings the grant's key up to date in
    # this process: the revoked token's own record must still be read again.
    refresh = OAuthToken.objects.get(digest=key_digest(tokens.refresh_token))
    second = refresh_token_rotate(token_pk=refresh.pk, scopes=list(first.scopes))
    token_revoke(token_pk=first.pk)
    assert None not in _verify(verifier, second.access_token, 1)
    assert _verify(verifier, tokens.access_token, 1) == [None]


def test_an_oauth_token_for_another_resource_is_refused_from_memory_too(mcp_db, hops, version_file):
    membership, _, _ = member_key("user")
    tokens = oauth_tokens(membership)
    assert None not in _verify(ApiKeyTokenVerifier(resource=RESOURCE), tokens.access_token, 1)
    assert _verify(ApiKeyTokenVerifier(resource=RESOURCE + "/other"), tokens.access_token, 2) == [None, None]
