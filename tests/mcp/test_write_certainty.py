"""A write that committed is never reported as failed when the database connection is lost (DESIGN.md,
"Boundaries and faults"), and one that did not commit is reported as not stored, with its quota unchanged.

The real pipeline and data services on the test PostgreSQL database. The faults are real terminations of the
call's own backend (pg_terminate_backend from a second connection), placed at the exact point that cannot be
hit by timing: inside the write's transaction, or around its COMMIT (the commit happens and only its answer is
lost, or the backend is gone before the COMMIT arrives).
"""

import dataclasses

import pytest
from django.db import close_old_connections, connection

from mcpbridge.dataplane.local.kv import LocalKVStore
from mcpbridge.models import OutboxEvent
from mcpbridge.server.callers import ContextStore
from mcpbridge.server.errors import BACKEND_FAILURE, Refusal
from mcpbridge.server.limiter import Limiter
from mcpbridge.server.pipeline import NOT_STORED_MESSAGE, OUTCOME_UNKNOWN_MESSAGE, CallerInfo, Pipeline
from mcpbridge.server.registry import ToolRegistry
from mcpbridge.server.telemetry import Telemetry
from mcpbridge.server.tools import default_registry
from mcpbridge.services.certainty import release_after_write
from mcpbridge.services.quotas import quota_used
from mcpbridge.services.reconcile import usage_reconcile
from tenants.limits import Limit
from tests.faults.database import (  # noqa: F401  (commit_faults is a fixture)
    _raise_the_dead_connections_error,
    commit_faults,
    terminate_this_threads_backend,
)
from tests.mcp.helpers import member_key

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("mcp_db"),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="terminating backends needs PostgreSQL"),
]


class Caller:
    def __init__(self, role: str = "admin"):
        self.membership, _, self.raw = member_key(role)
        self.tenant_id = str(self.membership.tenant_id)
        self.pipeline = Pipeline(
            registry=default_registry(), limiter=Limiter(), telemetry=Telemetry(), contexts=ContextStore()
        )

    def call(self, tool: str, arguments: dict):
        result = self.pipeline.call_tool(CallerInfo(self.raw), tool, arguments)
        assert not result.is_error, result
        return result.structured_content

    def armed(self, tool: str, arm) -> "Caller":
        """This caller, with `arm()` run at the start of `tool`'s handler (after authentication and limits)."""
        registry = default_registry()
        original = registry.get(tool)

        def handler(call):
            arm()
            return original.handler(call)

        self.pipeline = Pipeline(
            registry=ToolRegistry([dataclasses.replace(t, handler=handler) if t.name == tool else t for t in registry]),
            limiter=Limiter(),
            telemetry=Telemetry(),
            contexts=ContextStore(),
        )
        return self

    def used(self, limit: str) -> int:
        return quota_used(tenant_id=self.tenant_id, limit=limit)


# (tool, arguments, what the caller reads back when the write is stored, the quota it counts against)
WRITES = {
    "kv_set": ({"key": "k", "value": "v"}, lambda c: c.call("kv_get", {"key": "k"})["value"] == "v", Limit.KV_ITEMS),
    "secrets_put": (
        {"name": "db/password", "value": "s3cret"},
        lambda c: c.call("secrets_get", {"name": "db/password"})["value"] == "s3cret",
        Limit.SECRETS_COUNT,
    ),
    "artifacts_put": (
        {"name": "r.txt", "content": "hello", "content_type": "text/plain"},
        lambda c: c.call("artifacts_get", {"name": "r.txt"}).get("content") == "hello",
        Limit.STORAGE_BYTES,
    ),
    "events_send": ({"detail_type": "t.done", "detail": {"n": 1}}, lambda c: OutboxEvent.objects.filter(detail_type="t.done").exists(), Limit.EVENTS_PER_MONTH),
}


def _stored(caller, read_back) -> bool:
    try:
        return read_back(caller)
    except AssertionError:  # the read itself answered "not found"
        return False


@pytest.mark.parametrize("tool", list(WRITES))
def test_a_write_whose_commit_answer_is_lost_is_answered_as_success_and_is_readable(commit_faults, tool):
    arguments, read_back, limit = WRITES[tool]
    caller = Caller()
    caller.armed(tool, lambda: commit_faults.at_next_commit(committed=True))
    result = caller.call(tool, arguments)
    assert commit_faults.fired == 1
    assert result and "error" not in result
    assert _stored(caller, read_back)
    assert caller.used(limit) > 0  # the quota change committed with the write, counted once


@pytest.mark.parametrize("tool", list(WRITES))
def test_a_write_whose_commit_never_reached_the_server_is_reported_not_stored(commit_faults, tool):
    arguments, read_back, limit = WRITES[tool]
    caller = Caller()
    caller.armed(tool, lambda: commit_faults.at_next_commit(committed=False))
    with pytest.raises(Refusal) as refusal:
        caller.pipeline.call_tool(CallerInfo(caller.raw), tool, arguments)
    assert commit_faults.fired == 1
    assert (refusal.value.code, refusal.value.message) == (BACKEND_FAILURE, NOT_STORED_MESSAGE)
    assert not _stored(caller, read_back)
    assert caller.used(limit) == 0


def test_a_connection_lost_inside_the_write_reports_not_stored_and_counts_nothing(monkeypatch):
    """The backend dies after the quota was reserved and before the item is inserted: neither is kept."""
    caller = Caller()
    real_put = LocalKVStore.put

    def put(self, namespace, key, value, size, expires_at, *, must_exist):
        if must_exist is None:  # the insert of a new item, after its quota reservation
            terminate_this_threads_backend()
        return real_put(self, namespace, key, value, size, expires_at, must_exist=must_exist)

    monkeypatch.setattr(LocalKVStore, "put", put)
    with pytest.raises(Refusal) as refusal:
        caller.pipeline.call_tool(CallerInfo(caller.raw), "kv_set", {"key": "new", "value": "v"})
    assert (refusal.value.code, refusal.value.message) == (BACKEND_FAILURE, NOT_STORED_MESSAGE)
    monkeypatch.undo()
    assert caller.used(Limit.KV_ITEMS) == 0
    assert caller.pipeline.call_tool(CallerInfo(caller.raw), "kv_get", {"key": "new"}).is_error
    # And the next call works on a new connection.
    caller.call("kv_set", {"key": "new", "value": "v2"})
    assert caller.used(Limit.KV_ITEMS) == 1


@pytest.mark.parametrize("tool", list(WRITES))
def test_a_connection_dropped_between_calls_is_replaced_before_the_write(monkeypatch, tool):
    """In a server the caller's principal and the policy version are cached, so the write's transaction can be
    the call's first use of its connection: its health check runs before BEGIN (Django's set_autocommit does
    it), where a dead connection can still be replaced, as when the writes were separate statements."""
    arguments, read_back, limit = WRITES[tool]
    caller = Caller()
    # As a serving process keeps them (controlplane.database.keep_connections): kept, health-checked per call.
    monkeypatch.setitem(connection.settings_dict, "CONN_MAX_AGE", 300)
    monkeypatch.setitem(connection.settings_dict, "CONN_HEALTH_CHECKS", True)
    connection.close()
    connection.ensure_connection()

    def dropped_since_the_last_call():
        close_old_connections()  # the state at the start of a call: its connection not yet checked
        terminate_this_threads_backend()

    caller.armed(tool, dropped_since_the_last_call)
    caller.call(tool, arguments)
    assert _stored(caller, read_back)


# (tool, how to write the item, the delete's arguments, how to read it, the quota it counts against)
DELETES = {
    "kv_delete": (
        ("kv_set", {"key": "gone", "value": "v"}), {"key": "gone"}, ("kv_get", {"key": "gone"}), Limit.KV_ITEMS
    ),
    "artifacts_delete": (
        ("artifacts_put", {"name": "gone", "content": "12345"}), {"name": "gone"}, ("artifacts_get", {"name": "gone"}),
        Limit.STORAGE_BYTES,
    ),
}


@pytest.mark.parametrize("tool", list(DELETES))
def test_a_delete_whose_commit_answer_is_lost_is_answered_as_done_and_releases_its_quota_once(commit_faults, tool):
    (put, put_arguments), arguments, (get, get_arguments), limit = DELETES[tool]
    caller = Caller()
    caller.call(put, put_arguments)
    before = caller.used(limit)
    caller.armed(tool, lambda: commit_faults.at_next_commit(committed=True))
    assert caller.call(tool, arguments)["deleted"] is True
    assert commit_faults.fired == 1
    assert caller.pipeline.call_tool(CallerInfo(caller.raw), get, get_arguments).is_error
    assert caller.used(limit) == 0 < before


def test_after_a_remote_stores_write_a_lost_database_does_not_fail_the_call_and_reconciliation_evens_the_gauge():
    """With a remote store (AWS) the quota release after the write is not in the write's transaction."""
    caller = Caller()
    caller.call("kv_set", {"key": "remote", "value": "v"})
    namespace = caller.pipeline.principal(CallerInfo(caller.raw)).namespace
    LocalKVStore().delete(namespace, "remote")  # stands in for the remote store's delete, which succeeded
    terminate_this_threads_backend()
    release_after_write(object(), tenant_id=caller.tenant_id, limit=Limit.KV_ITEMS, amount=1)  # no error
    connection.close()
    assert caller.used(Limit.KV_ITEMS) == 1  # over by the lost release: it errs closed ...
    usage_reconcile(tenant_id=caller.tenant_id)
    assert caller.used(Limit.KV_ITEMS) == 0  # ... until the usage reconciliation sets it to what is stored


def test_the_outcome_stays_unknown_only_when_the_check_cannot_reach_the_database(commit_faults, monkeypatch):
    caller = Caller()
    caller.armed("kv_set", lambda: commit_faults.at_next_commit(committed=True, check_reaches_database=False))
    with pytest.raises(Refusal) as refusal:
        caller.pipeline.call_tool(CallerInfo(caller.raw), "kv_set", {"key": "k", "value": "v"})
    assert (refusal.value.code, refusal.value.message) == (BACKEND_FAILURE, OUTCOME_UNKNOWN_MESSAGE)
    monkeypatch.undo()
    connection.close()
    assert caller.call("kv_get", {"key": "k"})["value"] == "v"


def test_an_update_whose_answer_is_lost_is_answered_as_success_and_is_readable(monkeypatch):
    """Changing an existing item is one statement in autocommit: it commits with its own answer, so a lost
    answer leaves the outcome to be read back, not assumed."""
    caller = Caller()
    caller.call("kv_set", {"key": "k", "value": "old"})
    real_put = LocalKVStore.put

    def put(self, namespace, key, value, size, expires_at, *, must_exist):
        result = real_put(self, namespace, key, value, size, expires_at, must_exist=must_exist)
        if must_exist is True:
            terminate_this_threads_backend()
            _raise_the_dead_connections_error()
        return result

    monkeypatch.setattr(LocalKVStore, "put", put)
    assert caller.call("kv_set", {"key": "k", "value": "new"})["key"] == "k"
    monkeypatch.undo()
    assert caller.call("kv_get", {"key": "k"})["value"] == "new"
    assert caller.used(Limit.KV_ITEMS) == 1


def test_an_update_whose_connection_is_lost_before_it_reports_not_stored_and_keeps_the_old_value(monkeypatch):
    caller = Caller()
    caller.call("kv_set", {"key": "k", "value": "old"})
    real_put = LocalKVStore.put

    def put(self, namespace, key, value, size, expires_at, *, must_exist):
        if must_exist is True:
            terminate_this_threads_backend()
        return real_put(self, namespace, key, value, size, expires_at, must_exist=must_exist)

    monkeypatch.setattr(LocalKVStore, "put", put)
    with pytest.raises(Refusal) as refusal:
        caller.pipeline.call_tool(CallerInfo(caller.raw), "kv_set", {"key": "k", "value": "new"})
    assert (refusal.value.code, refusal.value.message) == (BACKEND_FAILURE, NOT_STORED_MESSAGE)
    monkeypatch.undo()
    assert caller.call("kv_get", {"key": "k"})["value"] == "old"
    assert caller.used(Limit.KV_ITEMS) == 1
