from dataclasses import dataclass

from tenants.models.audit import AuditAction


@dataclass(frozen=True)
class Actor:
    """Who asks for a change, and through which door (decides the audit action)."""

    label: str
    user_id: int | None = None
    channel: str = AuditAction.ADMIN_CHANGE
    request_id: str = ""
    # What the actor may hand on (keys, roles): None for staff, the system and commands; an API key's
    # effective capabilities otherwise, so no key can mint or widen a key beyond itself.
    capabilities: frozenset[str] | None = None

    @classmethod
    def for_user(cls, user, *, channel: str = AuditAction.ADMIN_CHANGE, request_id: str = "") -> "Actor":
        return cls(f"user:{user.get_username()}", user.pk, channel, request_id)

    @classmethod
    def for_principal(cls, principal, *, channel: str = AuditAction.API_CALL, request_id: str = "") -> "Actor":
        # Judged in the personal context, like tenant.manage: an org a key acts in must not widen what it grants.
        capabilities = principal.personal_capabilities
        return cls(principal.actor_label, principal.user_id, channel, request_id, capabilities)

    @classmethod
    def system(cls, name: str = "system") -> "Actor":
        return cls(name, None, AuditAction.LIFECYCLE)
