"""The HTTP bearer check runs on every request, so what it costs is paid per call: one worker-thread hop
whatever the credential, and no database round trip to health-check the thread's kept connection first (a
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


def _verify(verifier: ApiKeyTokenVerifier, token: str, times: int):
    async def main():
        return [await verifier.verify_token(token) for _ in range(times)]

    return anyio.run(main)


def test_an_api_key_costs_one_hop_and_no_health_check(mcp_db, hops, health_checks):
    membership, key, raw = member_key("user")
    verified = _verify(ApiKeyTokenVerifier(resource=RESOURCE), raw, 3)
    assert all(access.client_id == key.prefix for access in verified)
    assert len(hops) == 3
    assert health_checks == []


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
