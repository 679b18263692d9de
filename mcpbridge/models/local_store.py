"""Tables of the embedded (`local`) data-plane adapters. Only mcpbridge.dataplane.local touches them."""

from django.db import models


class LocalKVItem(models.Model):
    namespace = models.CharField(max_length=255)
    key = models.CharField(max_length=1024)
    value = models.TextField()
    size = models.PositiveIntegerField()
    expires_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["namespace", "key"], name="unique_local_kv_key")]
        ordering = ["namespace", "key"]
        verbose_name = "local KV item"


class LocalArtifact(models.Model):
    key = models.CharField(max_length=1024, unique=True)
    size = models.PositiveBigIntegerField()
    content_type = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["key"]
        verbose_name = "local artifact"


class LocalSecret(models.Model):
    name = models.CharField(max_length=512, unique=True)
    # Fernet token keyed from SECRET_KEY: a database dump alone does not reveal secret values.
    ciphertext = models.TextField()
    version = models.CharField(max_length=64)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "local secret"


class LocalDeliveredEvent(models.Model):
    """What the embedded event bus received; one row per event id, redeliveries counted."""

    delivery_seq = models.BigAutoField(primary_key=True)
    event_id = models.CharField(max_length=64, unique=True)
    bus = models.CharField(max_length=256)
    source = models.CharField(max_length=256)
    detail_type = models.CharField(max_length=128)
    detail = models.JSONField()
    deliveries = models.PositiveIntegerField(default=1)
    first_delivered_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["delivery_seq"]
        verbose_name = "local delivered event"
