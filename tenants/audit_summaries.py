"""One line, in a few words, of what an audit event records ("suspended tenant acme", "revoked key cpk_81b4…").

Computed from the event's action, target, outcome and details, so every row ever written reads the same way
and nothing is stored twice. The admin's audit list, its CSV export and the object History use these words.
"""

from collections.abc import Callable, Mapping

from tenants.models.audit import AuditAction, AuditOutcome

_OUTCOME_WORDS = {
    AuditOutcome.DENIED: "denied",
    AuditOutcome.RATE_LIMITED: "rate limited",
    AuditOutcome.QUOTA_EXCEEDED: "over quota",
    AuditOutcome.INVALID: "invalid",
    AuditOutcome.ERROR: "failed",
}


def _name(target: str) -> str:
    """`kind:name` -> name; `membership:acme/alice` -> alice (the tenant is named elsewhere on the row)."""
    return target.split(":", 1)[-1]


def _who(target: str) -> str:
    return _name(target).split("/", 1)[-1]


def _where(target: str) -> str:
    return _name(target).split("/", 1)[0]


def _key(target: str) -> str:
    # Only a key's visible prefix is ever stored; the ellipsis stands for the secret part nobody sees again.
    return f"{_name(target)}…"


def _listed(values) -> str:
    return ", ".join(str(v) for v in values) if values else "none"


def _scope(scopes) -> str:
    return "unrestricted" if scopes is None else f"scope {_listed(scopes)}"


_Phrase = Callable[[str, Mapping], str]

_OPERATIONS: dict[str, _Phrase] = {
    "tenant.create": lambda t, d: f"created tenant {_name(t)}",
    "tenant.update": lambda t, d: f"changed {_listed(d.get('fields'))} of tenant {_name(t)}",
    "tenant.suspend": lambda t, d: f"suspended tenant {_name(t)}",
    "tenant.resume": lambda t, d: f"resumed tenant {_name(t)}",
    "tenant.offboard": lambda t, d: f"started offboarding tenant {_name(t)}",
    "tenant.mark_offboarded": lambda t, d: f"finished offboarding tenant {_name(t)}",
    "tenant.change_plan": lambda t, d: f"moved tenant {_name(t)} from plan {d.get('from')} to {d.get('to')}",
    "limit.set": lambda t, d: f"set {d.get('limit')} of tenant {_name(t)} to {d.get('to')}",
    "limit.clear": lambda t, d: f"cleared the {d.get('limit')} override of tenant {_name(t)}",
    "plan.create": lambda t, d: f"created plan {_name(t)}",
    "plan.update": lambda t, d: f"changed the limits of plan {_name(t)}",
    "role.create": lambda t, d: f"created role {_name(t)} ({_listed(d.get('capabilities'))})",
    "role.update": lambda t, d: f"changed capabilities of role {_name(t)} to {_listed(d.get('to'))}",
    "role.delete": lambda t, d: f"deleted role {_name(t)}",
    "org.create": lambda t, d: f"created organization {_who(t)} in {_where(t)}",
    "org.update": lambda t, d: f"renamed organization {_who(t)} in {_where(t)}",
    "org.delete": lambda t, d: f"deleted organization {_who(t)} in {_where(t)}",
    "membership.add": lambda t, d: f"added {_who(t)} to {_where(t)} as {d.get('role')}",
    "membership.change_role": lambda t, d: f"changed role of {_who(t)} to {d.get('to')}",
    "membership.remove": lambda t, d: f"removed {_who(t)} from {_where(t)}",
    "org_membership.add": lambda t, d: f"added {_who(t)} to organization {_where(t)} as {d.get('role')}",
    "org_membership.change_role": lambda t, d: f"changed role of {_who(t)} in organization {_where(t)} to {d.get('to')}",
    "org_membership.remove": lambda t, d: f"removed {_who(t)} from organization {_where(t)}",
    "api_key.issue": lambda t, d: f"issued key {_key(t)} to {d.get('user')} ({_scope(d.get('scopes'))})",
    "api_key.update": lambda t, d: f"changed key {_key(t)} ({_scope(d.get('scopes'))})",
    "api_key.revoke": lambda t, d: f"revoked key {_key(t)}",
    "service_account.create": lambda t, d: f"created service account {_name(t)}",
    "service_account.update": lambda t, d: f"changed service account {_name(t)}",
    "service_key.issue": lambda t, d: f"issued service key {_key(t)} to {d.get('account')}",
    "service_key.revoke": lambda t, d: f"revoked service key {_key(t)} of {d.get('account')}",
    "user.create": lambda t, d: f"created user {_name(t)}",
    "user.change": lambda t, d: f"changed {_listed(d.get('fields'))} of user {_name(t)}",
    "user.delete": lambda t, d: f"deleted user {_name(t)}",
    "group.create": lambda t, d: f"created group {_name(t)}",
    "group.change": lambda t, d: f"changed {_listed(d.get('fields'))} of group {_name(t)}",
    "group.delete": lambda t, d: f"deleted group {_name(t)}",
    "mcp_session.revoke": lambda t, d: f"revoked MCP session {_name(t)}",
    "mcp_session.open": lambda t, d: (
        f"refused a new MCP session ({d.get('transport')}): {d.get('reason')}"
        if d.get("reason")
        else f"opened MCP session {_name(t)} ({d.get('transport')}{', ' + d['client'] if d.get('client') else ''})"
    ),
    "mcp_session.end": lambda t, d: (
        f"ended MCP session {_name(t)}: {d.get('reason')}{' (' + d['why'] + ')' if d.get('why') else ''}"
    ),
    "outbox.retry": lambda t, d: f"requeued {d.get('count')} parked outbox event(s)",
}


def _operation(operation: str, target: str, details: Mapping) -> str:
    phrase = _OPERATIONS.get(operation)
    if phrase is not None:
        return phrase(target, details)
    if operation.startswith("application_plane."):
        event = operation.split(".", 1)[1]
        return f"application plane reported {event} for tenant {_name(target)} ({details.get('state')})"
    return f"{operation.replace('.', ' ').replace('_', ' ')} {target}".strip()


def _refusal(outcome: str, details: Mapping) -> str:
    words = _OUTCOME_WORDS.get(outcome, outcome)
    why = details.get("reason") or details.get("limit")
    return f"{words}: {why}" if why else words


def _tool_call(target: str, outcome: str, details: Mapping) -> str:
    tool = details.get("tool") or _name(target)
    if outcome == AuditOutcome.OK:
        return f"called {tool}"
    return f"{tool} {_refusal(outcome, details)}"


def _auth_failure(actor: str, target: str, details: Mapping) -> str:
    what = details.get("tool") or target
    reason = details.get("reason")
    who = f"key {_key(actor)}" if actor.startswith(("key:", "service-key:")) and not actor.endswith(":unknown") else actor
    return f"refused {who} at {what}" + (f": {reason}" if reason else "")


def audit_summary(*, action: str, actor: str, target: str, outcome: str, details: Mapping | None) -> str:
    """The few words that say what one audit event records."""
    details = details if isinstance(details, Mapping) else {}
    operation = details.get("operation")
    if isinstance(operation, str) and operation:
        line = _operation(operation, target, details)
        return line if outcome == AuditOutcome.OK else f"{line}: {_refusal(outcome, details)}"
    if action == AuditAction.TOOL_CALL:
        return _tool_call(target, outcome, details)
    if action == AuditAction.AUTH_FAILURE:
        return _auth_failure(actor, target, details)
    label = AuditAction(action).label if action in AuditAction.values else action
    line = f"{label.lower()} {target}".strip()
    return line if outcome == AuditOutcome.OK else f"{line}: {_refusal(outcome, details)}"


def event_summary(event) -> str:
    return audit_summary(
        action=event.action, actor=event.actor, target=event.target, outcome=event.outcome, details=event.details
    )
