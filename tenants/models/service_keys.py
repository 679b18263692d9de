import uuid

from django.core.validators import RegexValidator
from django.db import models

_ACCOUNT_NAME = RegexValidator(
    r"^[a-z0-9][a-z0-9-]{0,59}$",
    "Use lowercase letters, digits and hyphens (at most 60), starting with a letter or digit.",
)


class ServiceAccount(models.Model):
    """A machine identity of the platform (a provisioning pipeline). Audit events name it as service:<name>."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(
        max_length=60, unique=True, validators=[_ACCOUNT_NAME], help_text="Audited as service:<name>; cannot change."
    )
    description = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.CharField(max_length=150, blank=True, editable=False)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    @property
    def actor_label(self) -> str:
        return f"service:{self.name}"


class PlatformServiceKey(models.Model):
    """A credential of a service account. The raw key exists only in the response that created it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    account = models.ForeignKey(ServiceAccount, on_delete=models.PROTECT, related_name="keys")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, unique=True, editable=False, help_text="Visible part of the key.")
    digest = models.CharField(max_length=64, unique=True, editable=False)
    capabilities = models.JSONField(default=list, help_text="Platform capabilities this key grants.")
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True, db_index=True)
    revoked_reason = models.CharField(max_length=200, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    created_by = models.CharField(max_length=150, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "platform service key"

    def __str__(self):
        return f"{self.prefix}… ({self.account.name}: {self.name})"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None
