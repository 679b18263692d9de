import uuid

from django.db import models


class SessionTransport(models.TextChoices):
    STDIO = "stdio", "stdio"
    HTTP = "http", "Streamable HTTP"


class SessionEndReason(models.TextChoices):
    CLIENT_CLOSED = "client_closed", "Client closed"
    IDLE = "idle", "Idle timeout"
    REVOKED = "revoked", "Revoked by an admin"
    KEY_REVOKED = "key_revoked", "API key revoked"
    TENANT_INACTIVE = "tenant_inactive", "Tenant suspended or offboarded"
    SERVER_SHUTDOWN = "server_shutdown", "Server shut down"


class McpSession(models.Model):
    """One MCP client connection (or, for the stateless protocol, one principal's stream of calls)."""

    Transport = SessionTransport
    EndReason = SessionEndReason

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="mcp_sessions")
    membership = models.ForeignKey(
        "tenants.Membership", null=True, on_delete=models.SET_NULL, related_name="mcp_sessions"
    )
    api_key = models.ForeignKey("tenants.ApiKey", null=True, on_delete=models.SET_NULL, related_name="mcp_sessions")
    transport = models.CharField(max_length=8, choices=SessionTransport.choices)
    transport_session_id = models.CharField(max_length=128, blank=True, db_index=True)
    protocol_version = models.CharField(max_length=32, blank=True)
    client_name = models.CharField(max_length=200, blank=True)
    client_version = models.CharField(max_length=100, blank=True)
    started_at = models.DateTimeField(auto_now_add=True, db_index=True)
    last_seen_at = models.DateTimeField(auto_now_add=True)
    ended_at = models.DateTimeField(null=True, blank=True, db_index=True)
    end_reason = models.CharField(max_length=32, choices=SessionEndReason.choices, blank=True)
    revoke_requested_at = models.DateTimeField(null=True, blank=True)
    request_count = models.PositiveBigIntegerField(default=0)

    class Meta:
        ordering = ["-started_at"]
        verbose_name = "MCP session"
        indexes = [
            models.Index(fields=["tenant", "ended_at"], name="mcpsession_tenant_open"),
            # The admin's protocol version filter reads its choices from this index.
            models.Index(fields=["protocol_version", "-started_at"], name="mcpsession_protocol_time"),
        ]

    def __str__(self):
        return f"{self.transport} session {str(self.id)[:8]}"

    @property
    def is_open(self) -> bool:
        return self.ended_at is None
