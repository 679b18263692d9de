"""No escalation: an actor never hands on (in a key's scope or a member's role) a capability it does not hold."""

from tenants.capabilities import ALL_CAPABILITIES
from tenants.services.actors import Actor
from tenants.services.errors import ForbiddenError


def _held(actor: Actor) -> str:
    return ", ".join(sorted(actor.capabilities)) or "none"


def ensure_may_grant_scope(*, actor: Actor, scopes: list[str] | None, verb: str = "issue") -> None:
    """Refuse a key scope wider than the actor's own capabilities. scopes None ("whatever the role grants")
    follows every future role change, so only an actor that holds every capability may give it."""
    if actor.capabilities is None:
        return
    if scopes is None:
        missing = ALL_CAPABILITIES - actor.capabilities
        if missing:
            raise ForbiddenError(
                f"Your key lacks {', '.join(sorted(missing))}, so it cannot {verb} an unrestricted key "
                f"(scopes null: whatever the role grants). List the capabilities the key needs instead; "
                f"yours are: {_held(actor)}.",
                field="scopes",
            )
        return
    missing = set(scopes) - actor.capabilities
    if missing:
        raise ForbiddenError(
            f"Your key lacks {', '.join(sorted(missing))}, so it cannot {verb} a key with "
            f"{'it' if len(missing) == 1 else 'them'}. A key can hold only capabilities yours holds: {_held(actor)}.",
            field="scopes",
        )


def ensure_may_grant_role(*, actor: Actor, role) -> None:
    """Refuse assigning a role that grants more than the actor holds: the member's unrestricted keys would
    widen with it (the actor's own included, when it changes its own role)."""
    if actor.capabilities is None:
        return
    missing = set(role.capabilities) - actor.capabilities
    if missing:
        raise ForbiddenError(
            f"Your key lacks {', '.join(sorted(missing))}, so it cannot give anyone role {role.slug!r}. "
            f"Pick a role within your key's capabilities: {_held(actor)}.",
            field="role",
        )
