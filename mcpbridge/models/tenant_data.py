from django.db import models


class TenantDataPlane(models.Model):
    """Where a tenant's data plane stands: provisioned, and how far an offboarding purge has got."""

    tenant = models.OneToOneField("tenants.Tenant", on_delete=models.CASCADE, related_name="data_plane")
    provisioned_at = models.DateTimeField(null=True, blank=True)
    provisioning = models.JSONField(default=dict, blank=True)
    purge_started_at = models.DateTimeField(null=True, blank=True)
    purge_finished_at = models.DateTimeField(null=True, blank=True)
    purge_progress = models.JSONField(default=dict, blank=True, help_text="Items deleted so far, per store.")

    class Meta:
        verbose_name = "tenant data plane"

    def __str__(self):
        return f"data plane of {self.tenant_id}"
