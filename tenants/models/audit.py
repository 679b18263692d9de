from django.conf import settings
from django.db import models


class AuditAction(models.TextChoices):
    TOOL_CALL = "tool_call", "Tool call"
    ADMIN_CHANGE = "admin_change", "Admin change"
    API_CALL = "api_call", "API call"
    AUTH_FAILURE = "auth_failure", "Authentication failure"
    LIFECYCLE = "lifecycle", "Lifecycle change"
    SESSION = "session", "MCP session"


class AuditOutcome(models.TextChoices):
    OK = "ok", "OK"
    DENIED = "denied", "Denied"
    RATE_LIMITED = "rate_limited", "Rate limited"
    QUOTA_EXCEEDED = "quota_exceeded", "Quota exceeded"
    INVALID = "invalid", "Invalid"
    ERROR = "error", "Error"


class AppendOnlyError(Exception):
    pass


class AuditEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("Audit events are append-only.")

    def delete(self):
        raise AppendOnlyError("Audit events are append-only.")

    def add_to_count(self, amount: int) -> int:
        """Count more refusals into an aggregated row: the one change an audit row ever takes. Atomic in the
        database (count = count + n), so concurrent writers never lose an increment."""
        return models.QuerySet.update(self, count=models.F("count") + amount)


class AuditEvent(models.Model):
    """What happened, who did it, and how it ended. Never secret values or stored payloads."""

    Action = AuditAction
    Outcome = AuditOutcome

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.CharField(max_length=200, help_text="user:<name>, key:<prefix> or system")
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    tenant = models.ForeignKey("tenants.Tenant", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    action = models.CharField(max_length=32, choices=AuditAction.choices, db_index=True)
    target = models.CharField(max_length=300, blank=True)
    outcome = models.CharField(max_length=32, choices=AuditOutcome.choices, db_index=True)
    latency_ms = models.FloatField(null=True, blank=True)
    request_id = models.CharField(max_length=64, blank=True, db_index=True)
    details = models.JSONField(default=dict, blank=True)
    count = models.PositiveIntegerField(default=1, help_text="How many refusals this row stands for (aggregated).")
    # Aggregated refusals only: one row per door, source (key prefix or address), reason and minute.
    bucket = models.CharField(max_length=200, null=True, blank=True, unique=True, editable=False)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["tenant", "-created_at"], name="audit_tenant_time"),
            # The admin's search matches actor and target exactly (see tenants/admin/search.py).
            models.Index(fields=["actor", "-created_at"], name="audit_actor_time"),
            models.Index(fields=["target", "-created_at"], name="audit_target_time"),
            # The admin's action and outcome filters, newest first, without sorting every match.
            models.Index(fields=["action", "-created_at"], name="audit_action_time"),
            models.Index(fields=["outcome", "-created_at"], name="audit_outcome_time"),
        ]

    def __str__(self):
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.actor} {self.action} {self.target} {self.outcome}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError("Audit events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("Audit events are append-only.")
