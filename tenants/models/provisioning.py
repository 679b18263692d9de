from django.db import models


class ApplicationPlaneEvent(models.Model):
    """An application-plane result already applied; its EventBridge id makes redelivery a no-op."""

    event_id = models.CharField(max_length=128, unique=True)
    detail_type = models.CharField(max_length=64, db_index=True)
    tenant = models.ForeignKey("tenants.Tenant", null=True, on_delete=models.SET_NULL, related_name="+")
    outcome = models.CharField(max_length=200, blank=True)
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-received_at"]

    def __str__(self):
        return f"{self.detail_type} {self.event_id}"
