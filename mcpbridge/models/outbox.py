import uuid

from django.db import models
from django.utils import timezone


class OutboxStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    DELIVERED = "delivered", "Delivered"
    PARKED = "parked", "Parked (needs attention)"


class OutboxBus(models.TextChoices):
    TENANT = "tenant", "Tenant events"
    CONTROL_PLANE = "control_plane", "Control-plane lifecycle"


class OutboxEvent(models.Model):
    """An event accepted but maybe not yet delivered. Written in the producer's transaction, drained by a task."""

    Status = OutboxStatus
    Bus = OutboxBus

    # The stable event id consumers deduplicate on; `seq` is the delivery order.
    seq = models.BigAutoField(primary_key=True)
    event_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    tenant_id = models.UUIDField(db_index=True)
    bus = models.CharField(max_length=16, choices=OutboxBus.choices)
    source = models.CharField(max_length=256)
    detail_type = models.CharField(max_length=128)
    detail = models.JSONField()
    status = models.CharField(max_length=16, choices=OutboxStatus.choices, default=OutboxStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0, help_text="Deliveries the bus rejected for this entry.")
    outages = models.PositiveIntegerField(default=0, help_text="Drains that could not reach the bus at all.")
    next_attempt_at = models.DateTimeField(default=timezone.now)
    claimed_until = models.DateTimeField(null=True, blank=True)
    claim_token = models.CharField(max_length=32, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["seq"]
        verbose_name = "outbox event"
        indexes = [models.Index(fields=["status", "seq"], name="outbox_status_seq")]

    def __str__(self):
        return f"{self.detail_type} {self.event_id}"
