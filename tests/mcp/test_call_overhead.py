"""What a governed call does besides its own work, kept to once per call: the context read, the argument checks,
and (per background tick) the sessions' bookkeeping. Each test pins one such "once" down."""

import time
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from mcpbridge.models import McpSession
from mcpbridge.server import callers
from mcpbridge.server.callers import ContextStore
from mcpbridge.server.limiter import Limiter
from mcpbridge.server.pipeline import CallerInfo, Pipeline
from mcpbridge.server.sessions import SessionRegistry
from mcpbridge.server.telemetry import Telemetry
from mcpbridge.server.tools import default_registry
from mcpbridge.services import kv
from tenants.policy import resolve_api_key
from tests.mcp.helpers import member_key

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("mcp_db")]


def pipeline() -> Pipeline:
    return Pipeline(registry=default_registry(), limiter=Limiter(), telemetry=Telemetry(), contexts=ContextStore())


def test_without_redis_the_chosen_context_lives_in_process_memory_not_in_the_cache(settings, monkeypatch):
    settings.REDIS_URL = ""
    principal = resolve_api_key(member_key("admin")[2])
    contexts = ContextStore()
    contexts.set(principal, None)

    def no_cache(*args, **kwargs):
        raise AssertionError("the context store used Django's cache without a shared one")

    for method in ("get", "set", "delete"):
        monkeypatch.setattr(cache, method, no_cache)
    assert contexts.get(principal) == "personal"
    assert ContextStore().get(principal) == "personal"  # one store per process, whichever instance asks


def test_a_context_kept_in_process_memory_expires_like_the_cache_entry_did(settings, monkeypatch):
    settings.REDIS_URL = ""
    settings.MCP_SESSION_IDLE_SECONDS = 60
    principal = resolve_api_key(member_key("admin")[2])
    ContextStore().set(principal, None)
    now = time.monotonic()
    monkeypatch.setattr(callers.time, "monotonic", lambda: now + 59)
    assert ContextStore().get(principal) == "personal"
    monkeypatch.setattr(callers.time, "monotonic", lambda: now + 61)
    assert ContextStore().get(principal) is None


def test_expired_contexts_are_swept_as_the_process_store_grows(monkeypatch):
    store = callers.ProcessContexts()
    now = time.monotonic()
    for n in range(1000):
        store.set(f"old-{n}", "personal", 1)
    monkeypatch.setattr(callers.time, "monotonic", lambda: now + 2)
    for n in range(100):
        store.set(f"new-{n}", "personal", 60)
    assert len(store._items) == 100  # the sweep at 1024 entries dropped every expired one
    assert store.get("new-0") == "personal" and store.get("old-0") is None


def test_kv_set_checks_its_arguments_once_per_call(monkeypatch):
    raw = member_key("admin")[2]
    checks = []
    original = kv.kv_set_check

    def counted(**arguments):
        checks.append(arguments["key"])
        return original(**arguments)

    monkeypatch.setattr(kv, "kv_set_check", counted)
    result = pipeline().call_tool(CallerInfo(raw), "kv_set", {"key": "k", "value": "v"})
    assert not result.is_error and result.structured_content["size"] == 1
    assert checks == ["k"]
    assert kv.kv_get(principal=resolve_api_key(raw), key="k")["value"] == "v"


def test_kv_set_without_a_precheck_still_checks(monkeypatch):
    principal = resolve_api_key(member_key("admin")[2])
    with pytest.raises(kv.InvalidInput):
        kv.kv_set(principal=principal, key="k", value=5)


def test_session_bookkeeping_of_many_sessions_is_one_statement_per_flush():
    membership, key, raw = member_key("admin")
    principal = resolve_api_key(raw)
    registry = SessionRegistry(transport=McpSession.Transport.HTTP, idle_seconds=3600)
    lives = [registry.open(principal=principal, raw_key=raw, protocol_version="2025-11-25")[0] for _ in range(3)]
    for calls, live in enumerate(lives, start=1):
        for _ in range(calls):
            live.touch()
    lives[0].last_seen -= 30  # seen half a minute ago
    with CaptureQueriesContext(connection) as queries:
        registry.flush()
    assert len(queries) == 1
    rows = {str(row.pk): row for row in McpSession.objects.all()}
    assert [rows[live.record_id].request_count for live in lives] == [1, 2, 3]
    assert abs(rows[lives[0].record_id].last_seen_at - (timezone.now() - timedelta(seconds=30))) < timedelta(seconds=5)
    assert abs(rows[lives[2].record_id].last_seen_at - timezone.now()) < timedelta(seconds=5)
    with CaptureQueriesContext(connection) as queries:
        registry.flush()  # nothing new
    assert len(queries) == 0


def test_changing_an_existing_item_takes_no_transaction_and_a_new_one_shares_one_with_its_quota(monkeypatch):
    from mcpbridge.dataplane.local.kv import LocalKVStore

    seen = []
    real_put = LocalKVStore.put

    def put(self, namespace, key, value, size, expires_at, *, must_exist):
        seen.append((key, must_exist, connection.in_atomic_block))
        return real_put(self, namespace, key, value, size, expires_at, must_exist=must_exist)

    monkeypatch.setattr(LocalKVStore, "put", put)
    raw = member_key("admin")[2]
    calls = pipeline()
    for value in ("first", "second"):
        result = calls.call_tool(CallerInfo(raw), "kv_set", {"key": "k", "value": value})
        assert not result.is_error, result
    assert seen == [("k", True, False), ("k", None, True), ("k", True, False)]
    assert calls.call_tool(CallerInfo(raw), "kv_get", {"key": "k"}).structured_content["value"] == "second"
