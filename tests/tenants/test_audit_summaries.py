"""Every kind of audit event reads as a few words saying what happened."""

import re
from pathlib import Path

import pytest

from tenants.audit_summaries import _OPERATIONS, audit_summary

ROOT = Path(__file__).resolve().parents[2]


def _summary(action="admin_change", actor="user:root", target="", outcome="ok", **details):
    return audit_summary(action=action, actor=actor, target=target, outcome=outcome, details=details)


@pytest.mark.parametrize(
    ("target", "details", "expected"),
    [
        ("tenant:acme", {"operation": "tenant.create"}, "created tenant acme"),
        ("tenant:acme", {"operation": "tenant.update", "fields": ["name"]}, "changed name of tenant acme"),
        ("tenant:acme", {"operation": "tenant.suspend", "from": "active", "to": "suspended"}, "suspended tenant acme"),
        ("tenant:acme", {"operation": "tenant.resume"}, "resumed tenant acme"),
        ("tenant:acme", {"operation": "tenant.offboard"}, "started offboarding tenant acme"),
        ("tenant:acme", {"operation": "tenant.mark_offboarded"}, "finished offboarding tenant acme"),
        ("tenant:acme", {"operation": "tenant.change_plan", "from": "free", "to": "pro"},
         "moved tenant acme from plan free to pro"),
        ("tenant:acme", {"operation": "limit.set", "limit": "kv_items", "to": 10}, "set kv_items of tenant acme to 10"),
        ("tenant:acme", {"operation": "limit.clear", "limit": "kv_items"}, "cleared the kv_items override of tenant acme"),
        ("plan:pro", {"operation": "plan.create", "limits": {}}, "created plan pro"),
        ("plan:pro", {"operation": "plan.update", "limits": {}}, "changed the limits of plan pro"),
        ("role:ops", {"operation": "role.create", "capabilities": ["kv.read"]}, "created role ops (kv.read)"),
        ("role:ops", {"operation": "role.update", "from": [], "to": ["kv.read", "kv.write"]},
         "changed capabilities of role ops to kv.read, kv.write"),
        ("role:ops", {"operation": "role.delete"}, "deleted role ops"),
        ("org:acme/sales", {"operation": "org.create"}, "created organization sales in acme"),
        ("org:acme/sales", {"operation": "org.update"}, "renamed organization sales in acme"),
        ("org:acme/sales", {"operation": "org.delete"}, "deleted organization sales in acme"),
        ("membership:acme/alice", {"operation": "membership.add", "role": "user"}, "added alice to acme as user"),
        ("membership:acme/alice", {"operation": "membership.change_role", "from": "user", "to": "viewer"},
         "changed role of alice to viewer"),
        ("membership:acme/alice", {"operation": "membership.remove"}, "removed alice from acme"),
        ("org_membership:sales/alice", {"operation": "org_membership.add", "role": "user"},
         "added alice to organization sales as user"),
        ("org_membership:sales/alice", {"operation": "org_membership.change_role", "from": "user", "to": "admin"},
         "changed role of alice in organization sales to admin"),
        ("org_membership:sales/alice", {"operation": "org_membership.remove"}, "removed alice from organization sales"),
        ("api_key:cpk_81b4c2d0", {"operation": "api_key.issue", "scopes": None, "user": "alice"},
         "issued key cpk_81b4c2d0… to alice (unrestricted)"),
        ("api_key:cpk_81b4c2d0", {"operation": "api_key.update", "scopes": ["kv.read"]},
         "changed key cpk_81b4c2d0… (scope kv.read)"),
        ("api_key:cpk_81b4c2d0", {"operation": "api_key.revoke", "reason": "left"}, "revoked key cpk_81b4c2d0…"),
        ("service_account:terraform", {"operation": "service_account.create"}, "created service account terraform"),
        ("service_account:terraform", {"operation": "service_account.update"}, "changed service account terraform"),
        ("service_key:cps_1234abcd", {"operation": "service_key.issue", "account": "terraform", "capabilities": []},
         "issued service key cps_1234abcd… to terraform"),
        ("service_key:cps_1234abcd", {"operation": "service_key.revoke", "account": "terraform", "reason": "x"},
         "revoked service key cps_1234abcd… of terraform"),
        ("user:bob", {"operation": "user.create"}, "created user bob"),
        ("user:bob", {"operation": "user.change", "fields": ["email"]}, "changed email of user bob"),
        ("user:bob", {"operation": "user.delete"}, "deleted user bob"),
        ("group:ops", {"operation": "group.create"}, "created group ops"),
        ("group:ops", {"operation": "group.change", "fields": ["permissions"]}, "changed permissions of group ops"),
        ("group:ops", {"operation": "group.delete"}, "deleted group ops"),
        ("mcp_session:42", {"operation": "mcp_session.revoke"}, "revoked MCP session 42"),
        ("mcp_session:42", {"operation": "mcp_session.open", "transport": "http", "client": "inspector"},
         "opened MCP session 42 (http, inspector)"),
        ("mcp_session", {"operation": "mcp_session.open", "transport": "http", "reason": "max_sessions"},
         "refused a new MCP session (http): max_sessions"),
        ("mcp_session:42", {"operation": "mcp_session.end", "reason": "idle", "why": "evicted: key at its cap"},
         "ended MCP session 42: idle (evicted: key at its cap)"),
        ("outbox", {"operation": "outbox.retry", "count": 3}, "requeued 3 parked outbox event(s)"),
        ("tenant:acme", {"operation": "application_plane.onboarding", "state": "succeeded"},
         "application plane reported onboarding for tenant acme (succeeded)"),
    ],
)
def test_service_operations_read_as_what_happened(target, details, expected):
    assert _summary(target=target, **details) == expected


def test_every_operation_the_code_records_has_its_words():
    """A new operation written by a service without a phrase here would read as its raw name: fail instead."""
    recorded = set()
    for source in [*ROOT.glob("tenants/**/*.py"), *ROOT.glob("mcpbridge/**/*.py")]:
        recorded |= set(re.findall(r"""(?:"operation": |operation=)"([a-z_]+\.[a-z_]+)\"""", source.read_text()))
    recorded |= {f"{kind}.{verb}" for kind in ("user", "group") for verb in ("create", "change", "delete")}
    assert recorded and recorded <= set(_OPERATIONS), sorted(recorded - set(_OPERATIONS))


def test_a_refused_service_call_says_so():
    assert _summary(target="tenant:acme", outcome="denied", operation="tenant.suspend", reason="not staff") == (
        "suspended tenant acme: denied: not staff"
    )


@pytest.mark.parametrize(
    ("outcome", "details", "expected"),
    [
        ("ok", {"tool": "kv_set"}, "called kv_set"),
        ("denied", {"tool": "kv_set", "reason": "capability_missing"}, "kv_set denied: capability_missing"),
        ("rate_limited", {"tool": "kv_get", "limit": "requests_per_minute"}, "kv_get rate limited: requests_per_minute"),
        ("quota_exceeded", {"tool": "kv_set", "limit": "kv_items"}, "kv_set over quota: kv_items"),
        ("invalid", {"tool": "kv_set"}, "kv_set invalid"),
        ("error", {"tool": "artifacts_put"}, "artifacts_put failed"),
    ],
)
def test_tool_calls_name_the_tool_and_the_outcome(outcome, details, expected):
    assert _summary(action="tool_call", actor="key:cpk_81b4c2d0", target="tool:x", outcome=outcome, **details) == expected


def test_authentication_failures_name_the_key_and_the_reason():
    assert _summary(
        action="auth_failure", actor="key:cpk_81b4c2d0", target="/api/v1/tenants/", outcome="denied",
        reason="revoked_key",
    ) == "refused key cpk_81b4c2d0… at /api/v1/tenants/: revoked_key"
    assert _summary(action="auth_failure", actor="key:unknown", target="tool:kv_get", outcome="denied") == (
        "refused key:unknown at tool:kv_get"
    )


def test_other_events_fall_back_to_their_kind_and_target():
    assert _summary(action="session", target="mcp_session:7") == "mcp session mcp_session:7"
    assert _summary(action="api_call", target="/api/v1/x", outcome="rate_limited") == (
        "api call /api/v1/x: rate limited"
    )
    assert audit_summary(action="weird", actor="x", target="t", outcome="ok", details=None) == "weird t"
