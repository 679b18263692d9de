"""The MCP rate, capacity and concurrency limits: the in-process default, and Redis (a throwaway redis-server
of the test's own, which the tests stall and kill)."""

import logging
import time
from types import SimpleNamespace

import pytest

from mcpbridge.server.errors import BACKEND_FAILURE, RATE_LIMITED, TENANT_ERROR, Refusal
from mcpbridge.server.limiter import Limiter, LocalWindows
from mcpbridge.server.registry import Tool, ToolInput
from mcpbridge.server.tools import data
from tenants.limits import Limit
from tests.faults.redis_server import redis_server  # noqa: F401  (fixture)


def test_moving_window_grants_up_to_the_maximum_then_says_when_a_unit_frees_up():
    windows = LocalWindows()
    assert windows.hit("requests_per_minute", "t1", 3, 1, 1) is None
    time.sleep(0.3)
    assert windows.hit("requests_per_minute", "t1", 3, 1, 2) is None
    wait = windows.hit("requests_per_minute", "t1", 3, 1, 1)
    # The first hit leaves the window first, 1 s after it was taken.
    assert wait is not None and 0.5 < wait <= 0.7
    # A call costing 2 must wait for the later pair as well.
    assert 0.9 < windows.hit("requests_per_minute", "t1", 3, 1, 2) <= 1.0
    # Other tenants and other limits have their own windows.
    assert windows.hit("requests_per_minute", "t2", 3, 1, 3) is None
    assert windows.hit("s3_requests_per_second", "t1", 3, 1, 1) is None
    time.sleep(wait + 0.05)
    assert windows.hit("requests_per_minute", "t1", 3, 1, 1) is None
    assert windows.hit("requests_per_minute", "t1", 3, 1, 1) is not None


def test_a_call_costing_more_than_the_maximum_never_fits():
    windows = LocalWindows()
    assert windows.hit("dynamodb_write_units_per_second", "t1", 2, 1, 3) == 1.0
    assert windows.hit("dynamodb_write_units_per_second", "t1", 0, 1, 1) == 1.0
    # Refusals take nothing from the window.
    assert windows.hit("dynamodb_write_units_per_second", "t1", 2, 1, 2) is None


# --- concurrency leases ----------------------------------------------------------------------------------


def _caller(tenant_id="t1", **limits):
    """What the limiter reads of a principal: its tenant and its limits."""
    return SimpleNamespace(tenant_id=tenant_id, limits={Limit.MAX_CONCURRENT_REQUESTS: 2, **limits})


def _limiter(kind, redis_server, lease_seconds):
    return Limiter(redis_server.url if kind == "redis" else "", lease_seconds=lease_seconds)


def _refused_code(limiter, caller):
    try:
        with limiter.concurrency(caller):
            return None
    except Refusal as refusal:
        return refusal.code


@pytest.mark.parametrize("kind", ["local", "redis"])
def test_concurrency_slots_are_leases_of_their_owner(kind, redis_server):
    limiter = _limiter(kind, redis_server, 30)
    caller = _caller()
    first, second = limiter.concurrency(caller), limiter.concurrency(caller)
    first.__enter__()
    second.__enter__()
    with pytest.raises(Refusal) as refused:
        with limiter.concurrency(caller):
            pass
    assert refused.value.code == RATE_LIMITED and refused.value.data["limit"] == "max_concurrent_requests"
    # Another tenant has its own slots.
    assert _refused_code(limiter, _caller("t2")) is None
    # Ending one call frees exactly its own slot.
    first.__exit__(None, None, None)
    assert _refused_code(limiter, caller) is None
    third = limiter.concurrency(caller)
    third.__enter__()
    assert _refused_code(limiter, caller) == RATE_LIMITED
    second.__exit__(None, None, None)
    third.__exit__(None, None, None)
    assert _refused_code(limiter, caller) is None


@pytest.mark.parametrize("kind", ["local", "redis"])
def test_a_leaked_slot_lapses_at_its_deadline_however_often_callers_retry(kind, redis_server):
    lease = 1.0
    limiter = _limiter(kind, redis_server, lease)
    caller = _caller(max_concurrent_requests=1)
    leaked = limiter.concurrency(caller)
    leaked.__enter__()  # a call whose process died holding its slot: never released
    leaked_at = time.monotonic()
    refusals = 0
    # Clients retry all along; none of their attempts may push the leaked slot's deadline out.
    while time.monotonic() < leaked_at + lease + 0.3:
        if _refused_code(limiter, caller) is not None:
            refusals += 1
        time.sleep(0.05)
    assert refusals >= 5
    assert _refused_code(limiter, caller) is None


def test_a_redis_stall_neither_fails_a_finished_call_nor_leaves_a_slot_behind(redis_server):
    limiter = Limiter(redis_server.url, lease_seconds=2)
    caller = _caller(max_concurrent_requests=1)
    finished = []
    with limiter.concurrency(caller):
        finished.append("the call's work is done (and committed)")
        redis_server.pause()  # the release times out against the stalled Redis
    redis_server.resume()
    assert finished  # the context exited without an error: the call's answer stands
    assert _refused_code(limiter, caller) is None
    # A call that gives up on a stalled Redis is refused cleanly, but its acquire still runs once Redis wakes
    # up: a slot now held by nobody.
    redis_server.pause()
    with pytest.raises(Refusal) as refused:
        with limiter.concurrency(caller):
            pass
    assert refused.value.code == BACKEND_FAILURE
    redis_server.resume()
    time.sleep(0.3)  # Redis works through what queued up while it was stopped
    assert limiter._gate.held("t1") == 1
    assert _refused_code(limiter, caller) == RATE_LIMITED
    # It lapses at its deadline, the retries above and below notwithstanding.
    ghost_from = time.monotonic()
    while time.monotonic() < ghost_from + 2.3:
        _refused_code(limiter, caller)
        time.sleep(0.1)
    assert limiter._gate.held("t1") == 0
    assert _refused_code(limiter, caller) is None


def test_redis_down_refuses_calls_cleanly_logs_once_and_recovers(redis_server, caplog):
    limiter = Limiter(redis_server.url, lease_seconds=30)
    caller = _caller(requests_per_minute=100)
    tool = Tool(name="t", description="", input_model=ToolInput, handler=lambda call: {})
    limiter.check_rate(caller, tool)
    redis_server.kill()
    caplog.set_level(logging.WARNING)
    for _ in range(5):
        with pytest.raises(Refusal) as refused:
            limiter.check_rate(caller, tool)
        assert refused.value.code == BACKEND_FAILURE
        assert refused.value.data == {"reason": "limits_unavailable", "retry_after_ms": 1000}
        with pytest.raises(Refusal) as refused:
            with limiter.concurrency(caller):
                pass
        assert refused.value.code == BACKEND_FAILURE
    down = [r for r in caplog.records if " is unavailable (" in r.getMessage()]
    assert len(down) == 1 and not any(r.exc_info for r in caplog.records)
    redis_server.start()
    limiter.check_rate(caller, tool)
    with limiter.concurrency(caller):
        pass
    assert [r for r in caplog.records if " is back after " in r.getMessage()]


# --- costs larger than a budget ----------------------------------------------------------------------------


def test_a_call_costing_more_than_a_whole_window_runs_alone_in_an_empty_window():
    limiter = Limiter()
    caller = _caller(dynamodb_write_units_per_second=50)
    kv_set = next(tool for tool in data.TOOLS if tool.name == "kv_set")
    big = kv_set.parse({"key": "k", "value": "x" * 64 * 1024})  # 64 write units against 50 per second
    limiter.check_capacity(caller, kv_set, big)
    with pytest.raises(Refusal) as refused:
        limiter.check_capacity(caller, kv_set, big)
    assert refused.value.code == RATE_LIMITED and 0 < refused.value.data["retry_after_ms"] <= 1000
    time.sleep(refused.value.data["retry_after_ms"] / 1000 + 0.05)
    limiter.check_capacity(caller, kv_set, big)


def test_a_limit_of_zero_is_refused_as_such_not_told_to_retry():
    limiter = Limiter()
    kv_set = next(tool for tool in data.TOOLS if tool.name == "kv_set")
    args = kv_set.parse({"key": "k", "value": "v"})
    with pytest.raises(Refusal) as refused:
        limiter.check_capacity(_caller(dynamodb_write_units_per_second=0), kv_set, args)
    assert refused.value.code == TENANT_ERROR
    assert refused.value.data["limit"] == "dynamodb_write_units_per_second" and "retry_after_ms" not in refused.value.data
