from django.db import models


class UsageCounter(models.Model):
    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="usage_counters")
    metric = models.CharField(max_length=64)
    day = models.DateField()
    value = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "metric", "day"], name="unique_usage_counter")]
        ordering = ["-day", "metric"]
        # The admin's default order, and its metric filter and search (see tenants/admin/search.py).
        indexes = [
            models.Index(fields=["-day", "metric"], name="usage_day_metric"),
            models.Index(fields=["metric", "-day"], name="usage_metric_day"),
        ]

    def __str__(self):
        return f"{self.tenant_id} {self.metric} {self.day}: {self.value}"
