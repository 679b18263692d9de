import uuid

from django.db import models


class OAuthClient(models.Model):
    """An OAuth client as this authorization server knows it. Every client is public (PKCE, no secret)."""

    class Kind(models.TextChoices):
        REGISTERED = "registered", "Registered by staff"
        DYNAMIC = "dynamic", "Dynamic registration (RFC 7591)"
        METADATA_DOCUMENT = "metadata_document", "Client ID metadata document"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    client_id = models.CharField(max_length=500, unique=True)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.REGISTERED)
    name = models.CharField(max_length=200, blank=True)
    redirect_uris = models.JSONField(default=list, help_text="Exact redirect URIs, one string each.")
    # The client's registration metadata as it asked (client_uri, logo_uri, software_id...), for display only.
    metadata = models.JSONField(default=dict, blank=True, editable=False)
    metadata_fetched_at = models.DateTimeField(null=True, blank=True, editable=False)
    registered_from = models.GenericIPAddressField(null=True, blank=True, editable=False)
    blocked_at = models.DateTimeField(null=True, blank=True, editable=False)
    blocked_reason = models.CharField(max_length=200, blank=True, editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    created_by = models.CharField(max_length=150, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "OAuth client"

    def __str__(self):
        return self.name or self.client_id

    @property
    def is_blocked(self) -> bool:
        return self.blocked_at is not None
