from django.db import models


class QuotaUsage(models.Model):
    """How much of one quota a tenant uses now (gauges: period "") or in a calendar period ("2025-06")."""

    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="quota_usage")
    metric = models.CharField(max_length=64)
    period = models.CharField(max_length=16, blank=True, default="")
    used = models.BigIntegerField(default=0)
    reconciled_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "metric", "period"], name="unique_quota_usage")]
        ordering = ["tenant", "metric", "-period"]
        verbose_name = "quota usage"
        verbose_name_plural = "quota usage"

    def __str__(self):
        period = f" {self.period}" if self.period else ""
        return f"{self.metric}{period}: {self.used}"
