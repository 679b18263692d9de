from django.db import transaction
from django.utils import timezone

from mcpbridge.models import McpSession
from tenants.models.audit import AuditAction, AuditOutcome
from tenants.services import Actor, audit_record, audit_record_many


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
        mcp_session_audit_ended(
            ended=[
                dict(
                    session_id=locked.pk,
                    tenant_id=locked.tenant_id,
                    actor=session_actor(actor.label, actor.user_id, actor.request_id),
                    reason=locked.end_reason,
                    why="revoked by an admin",
                )
            ]
        )
    return locked


def session_actor(label: str, user_id: int | None = None, request_id: str = "") -> Actor:
    return Actor(label, user_id, AuditAction.SESSION, request_id)


def mcp_session_audit_opened(*, session: McpSession, actor: Actor) -> None:
    audit_record(
        actor=actor,
        target=f"mcp_session:{session.pk}",
        tenant_id=session.tenant_id,
        details={
            "operation": "mcp_session.open",
            "transport": session.transport,
            "protocol_version": session.protocol_version,
            "client": session.client_name,
        },
    )


def mcp_session_audit_ended(*, ended: list[dict]) -> int:
    """One event per ended session. Each dict: session_id, tenant_id, actor, reason (the stored end reason) and
    why (what happened, in words an admin reads). The request count stays on the session row: the background
    loop may still be writing part of it."""
    return audit_record_many(
        dict(
            actor=item["actor"],
            target=f"mcp_session:{item['session_id']}",
            tenant_id=item["tenant_id"],
            outcome=AuditOutcome.OK,
            details={
                "operation": "mcp_session.end",
                "reason": item["reason"],
                "why": item["why"],
            },
        )
        for item in ended
    )
