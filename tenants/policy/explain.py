"""Why a principal may or may not use a capability in a context."""

from dataclasses import dataclass

from tenants.capabilities import ALL_CAPABILITIES
from tenants.policy.errors import ContextNotAllowed
from tenants.policy.principal import Principal


@dataclass(frozen=True)
class Decision:
    allowed: bool
    capability: str
    context: str
    reasons: tuple[str, ...]

    def as_dict(self) -> dict:
        return {
            "allowed": self.allowed,
            "capability": self.capability,
            "context": self.context,
            "reasons": list(self.reasons),
        }


def explain(principal: Principal, capability: str, context: str | None = None) -> Decision:
    """Allow or deny `capability` for `principal` in `context` (None: the principal's current context;
    "personal"; or an org slug or id), with every reason that led there."""
    reasons: list[str] = [f"tenant {principal.tenant_slug} is {principal.tenant_status}"]
    if capability not in ALL_CAPABILITIES:
        return Decision(False, capability, str(principal.context), (f"{capability!r} is not a known capability",))
    if context is not None:
        try:
            principal = principal.in_context(None if context == "personal" else context)
        except ContextNotAllowed as exc:
            return Decision(False, capability, context, (*reasons, str(exc)))
    where = str(principal.context)
    role = principal.context_role
    grant = principal.find_org(principal.context.org_id) if principal.context.kind == "org" else None
    role_caps = grant.role_capabilities if grant else principal.role_capabilities
    if capability in role_caps:
        reasons.append(f"role {role!r} in context {where} grants {capability}")
    else:
        reasons.append(f"role {role!r} in context {where} does not grant {capability}")
    if principal.key_scope is None:
        reasons.append("API key has no scope restriction")
    elif capability in principal.key_scope:
        reasons.append(f"API key scope includes {capability}")
    else:
        reasons.append(f"API key scope excludes {capability}")
    return Decision(principal.can(capability), capability, where, tuple(reasons))
