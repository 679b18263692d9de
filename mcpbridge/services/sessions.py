from django.db import transaction
from django.utils import timezone

from mcpbridge.models import McpSession
from tenants.services import Actor, audit_record


@transaction.atomic
def mcp_session_revoke(*, session: McpSession, actor: Actor) -> McpSession:
    """End a session now. Servers holding it notice within a second and close it."""
    locked = McpSession.objects.select_for_update().get(pk=session.pk)
    if locked.ended_at is None:
        now = timezone.now()
        locked.revoke_requested_at = now
        locked.ended_at = now
        locked.end_reason = McpSession.EndReason.REVOKED
        locked.save(update_fields=["revoke_requested_at", "ended_at", "end_reason"])
        audit_record(
            actor=actor,
            target=f"mcp_session:{locked.pk}",
            tenant_id=locked.tenant_id,
            details={"operation": "mcp_session.revoke"},
        )
    return locked
