"""Every limit a plan carries is enforced: for each name in tenants/limits.py a scenario sets it low on a tenant,
stays within it, then exceeds it through the MCP enforcement pipeline and is refused naming that limit.

The table must cover LIMIT_NAMES exactly, so a limit added without a scenario (and so, maybe, without
enforcement) fails this module until someone proves it is enforced.
"""

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from mcpbridge.models import McpSession
from mcpbridge.server.callers import ContextStore
from mcpbridge.server.errors import INVALID_PARAMS, RATE_LIMITED, TENANT_ERROR, Refusal
from mcpbridge.server.limiter import Limiter
from mcpbridge.server.pipeline import CallerInfo, Pipeline
from mcpbridge.server.sessions import SessionRegistry
from mcpbridge.server.telemetry import Telemetry
from mcpbridge.server.tools import default_registry
from mcpbridge.services.kv import kv_get
from tenants.limits import LIMIT_NAMES, Limit
from tenants.models import Membership
from tenants.policy import resolve_api_key
from tenants.services import tenant_limit_set
from tests.factories import ACTOR, make_key, make_member, make_tenant

# The pipeline closes stale connections at every call, so the tests run outside a wrapping transaction.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("mcp_db")]

KIB = 1024


class Caller:
    """One API key calling tools through a real pipeline (in this process: limits in memory, the test database)."""

    def __init__(self, raw_key: str):
        self.raw_key = raw_key
        self.pipeline = Pipeline(
            registry=default_registry(), limiter=Limiter(), telemetry=Telemetry(), contexts=ContextStore()
        )

    def ok(self, tool: str, arguments: dict | None = None):
        result = self.pipeline.call_tool(CallerInfo(self.raw_key), tool, arguments or {})
        assert not result.is_error, result
        return result.structured_content

    def refused(self, tool: str, arguments: dict | None = None) -> Refusal:
        with pytest.raises(Refusal) as refusal:
            self.pipeline.call_tool(CallerInfo(self.raw_key), tool, arguments or {})
        return refusal.value

    @property
    def principal(self):
        return resolve_api_key(self.raw_key)


def _repeat(tool: str, arguments: Callable[[int], dict], allowed: int) -> Callable[[Caller], Refusal]:
    """`allowed` calls go through, the next one is refused."""

    def run(caller: Caller) -> Refusal:
        for i in range(allowed):
            caller.ok(tool, arguments(i))
        return caller.refused(tool, arguments(allowed))

    return run


def _concurrent_calls(caller: Caller) -> Refusal:
    running = caller.pipeline.limiter.concurrency(caller.principal)
    running.__enter__()  # a call still running
    try:
        return caller.refused("whoami")
    finally:
        running.__exit__(None, None, None)


def _sessions(caller: Caller) -> Refusal:
    """The tenant's cap: a second key of the tenant finds no room (a key never ends another key's session)."""
    registry = SessionRegistry(transport=McpSession.Transport.STDIO, idle_seconds=1800)
    registry.open(principal=caller.principal, raw_key=caller.raw_key, protocol_version="2025-11-25")
    _, other_raw = make_key(Membership.objects.get(pk=caller.principal.membership_id))
    other = Caller(other_raw)
    with pytest.raises(Refusal) as refusal:
        registry.open(principal=other.principal, raw_key=other.raw_key, protocol_version="2025-11-25")
    return refusal.value


def _sessions_per_key(caller: Caller) -> Refusal:
    """The key's cap: its only session has a call running, so there is no idle one to end for a new one."""
    registry = SessionRegistry(transport=McpSession.Transport.STDIO, idle_seconds=1800)
    busy, _ = registry.open(principal=caller.principal, raw_key=caller.raw_key, protocol_version="2025-11-25")
    busy.calls_in_flight = 1
    with pytest.raises(Refusal) as refusal:
        registry.open(principal=caller.principal, raw_key=caller.raw_key, protocol_version="2025-11-25")
    return refusal.value


def _event(i: int) -> dict:
    return {"detail_type": "test.happened", "detail": {"n": i}}


@dataclass(frozen=True)
class Scenario:
    value: int  # the limit is set to this
    code: int  # the answer once it is exceeded
    run: Callable[[Caller], Refusal]
    role: str = "user"


SCENARIOS: dict[str, Scenario] = {
    Limit.REQUESTS_PER_MINUTE: Scenario(2, RATE_LIMITED, _repeat("whoami", lambda i: {}, 2)),
    Limit.MAX_CONCURRENT_REQUESTS: Scenario(1, RATE_LIMITED, _concurrent_calls),
    Limit.MAX_MCP_SESSIONS: Scenario(1, TENANT_ERROR, _sessions),
    Limit.MAX_MCP_SESSIONS_PER_KEY: Scenario(1, TENANT_ERROR, _sessions_per_key),
    Limit.STORAGE_BYTES: Scenario(10, TENANT_ERROR, _repeat("artifacts_put", lambda i: {"name": f"a{i}", "content": "x" * 8}, 1)),
    Limit.MAX_ARTIFACT_BYTES: Scenario(5, TENANT_ERROR, _repeat("artifacts_put", lambda i: {"name": "a", "content": "x" * (5 + i)}, 1)),
    Limit.KV_ITEMS: Scenario(1, TENANT_ERROR, _repeat("kv_set", lambda i: {"key": f"k{i}", "value": "v"}, 1)),
    Limit.MAX_KV_VALUE_BYTES: Scenario(4, TENANT_ERROR, _repeat("kv_set", lambda i: {"key": "k", "value": "x" * (4 + i)}, 1)),
    Limit.EVENTS_PER_MINUTE: Scenario(2, RATE_LIMITED, _repeat("events_send", _event, 2)),
    Limit.EVENTS_PER_MONTH: Scenario(2, TENANT_ERROR, _repeat("events_send", _event, 2)),
    Limit.SECRETS_COUNT: Scenario(1, TENANT_ERROR, _repeat("secrets_put", lambda i: {"name": f"s{i}", "value": "v"}, 1), "admin"),
    Limit.DYNAMODB_READ_UNITS_PER_SECOND: Scenario(2, RATE_LIMITED, _repeat("kv_list", lambda i: {"limit": 10}, 2)),
    Limit.DYNAMODB_WRITE_UNITS_PER_SECOND: Scenario(2, RATE_LIMITED, _repeat("kv_set", lambda i: {"key": "k", "value": "v"}, 2)),
    Limit.S3_REQUESTS_PER_SECOND: Scenario(2, RATE_LIMITED, _repeat("artifacts_list", lambda i: {}, 2)),
    Limit.EVENTBRIDGE_ENTRIES_PER_SECOND: Scenario(2, RATE_LIMITED, _repeat("events_send", _event, 2)),
}


def _caller(role: str = "user", **limits) -> Caller:
    membership = make_member(make_tenant(), role)
    for name, value in limits.items():
        tenant_limit_set(tenant=membership.tenant, limit=name, value=value, actor=ACTOR)
    _, raw = make_key(membership)
    return Caller(raw)


def test_every_limit_has_an_enforcement_scenario():
    assert set(SCENARIOS) == set(LIMIT_NAMES)


@pytest.mark.parametrize("limit", LIMIT_NAMES)
def test_exceeding_the_limit_is_refused_naming_it(limit):
    scenario = SCENARIOS.get(limit)
    assert scenario is not None, f"{limit} can be configured, but no scenario proves it is enforced"
    refusal = scenario.run(_caller(scenario.role, **{limit: scenario.value}))
    assert refusal.code == scenario.code, refusal
    assert refusal.data["limit"] == limit, refusal.data


# --- sizes before rates; values up to the plan's maximum fit its capacity ------------------------------------


def test_a_value_of_the_plans_maximum_size_is_stored_with_the_default_limits():
    maximum = _caller().principal.limits[Limit.MAX_KV_VALUE_BYTES]
    for size in (51 * KIB, maximum):
        caller, value = _caller(), "x" * size  # a tenant each: one such write takes a whole second's budget
        assert caller.ok("kv_set", {"key": f"k{size}", "value": value})["size"] == size
        assert kv_get(principal=caller.principal, key=f"k{size}")["value"] == value


@pytest.mark.parametrize(
    "role, tool, arguments, limits, code, limit",
    [
        ("user", "kv_set", {"key": "big", "value": "x" * 65 * KIB}, {}, TENANT_ERROR, Limit.MAX_KV_VALUE_BYTES),
        ("user", "kv_set", {"key": "big", "value": "x" * 10 * 1024 * KIB}, {}, TENANT_ERROR, Limit.MAX_KV_VALUE_BYTES),
        ("user", "artifacts_put", {"name": "a", "content": "x" * 11}, {Limit.MAX_ARTIFACT_BYTES: 10}, TENANT_ERROR,
         Limit.MAX_ARTIFACT_BYTES),
        ("user", "artifacts_put", {"name": "a", "size": 11}, {Limit.MAX_ARTIFACT_BYTES: 10}, TENANT_ERROR,
         Limit.MAX_ARTIFACT_BYTES),
        ("admin", "secrets_put", {"name": "s", "value": "x" * (64 * KIB + 1)}, {}, INVALID_PARAMS, None),
    ],
    ids=["kv-65KiB", "kv-10MB", "artifact-inline", "artifact-upload-url", "secret-over-64KiB"],
)
def test_a_call_over_a_size_limit_is_refused_as_such_even_when_rate_limited(role, tool, arguments, limits, code, limit):
    caller = _caller(role, requests_per_minute=1, dynamodb_write_units_per_second=1, s3_requests_per_second=1, **limits)
    caller.ok("whoami")  # the tenant's request budget is used up: a retriable refusal would come first
    refusal = caller.refused(tool, arguments)
    assert refusal.code == code, refusal
    assert "retry_after_ms" not in refusal.data
    if limit is not None:
        assert refusal.data["limit"] == limit
