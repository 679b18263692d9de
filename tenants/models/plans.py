from django.core.validators import MinValueValidator
from django.db import models

from tenants.limits import DEFAULT_LIMITS, LIMIT_NAMES, Limit


def _limit_field(limit: Limit) -> models.PositiveBigIntegerField:
    return models.PositiveBigIntegerField(limit.label, default=DEFAULT_LIMITS[limit])


class Plan(models.Model):
    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    requests_per_minute = _limit_field(Limit.REQUESTS_PER_MINUTE)
    max_concurrent_requests = _limit_field(Limit.MAX_CONCURRENT_REQUESTS)
    max_mcp_sessions = _limit_field(Limit.MAX_MCP_SESSIONS)
    max_mcp_sessions_per_key = _limit_field(Limit.MAX_MCP_SESSIONS_PER_KEY)
    storage_bytes = _limit_field(Limit.STORAGE_BYTES)
    max_artifact_bytes = _limit_field(Limit.MAX_ARTIFACT_BYTES)
    kv_items = _limit_field(Limit.KV_ITEMS)
    max_kv_value_bytes = _limit_field(Limit.MAX_KV_VALUE_BYTES)
    events_per_minute = _limit_field(Limit.EVENTS_PER_MINUTE)
    events_per_month = _limit_field(Limit.EVENTS_PER_MONTH)
    secrets_count = _limit_field(Limit.SECRETS_COUNT)
    dynamodb_read_units_per_second = _limit_field(Limit.DYNAMODB_READ_UNITS_PER_SECOND)
    dynamodb_write_units_per_second = _limit_field(Limit.DYNAMODB_WRITE_UNITS_PER_SECOND)
    s3_requests_per_second = _limit_field(Limit.S3_REQUESTS_PER_SECOND)
    eventbridge_entries_per_second = _limit_field(Limit.EVENTBRIDGE_ENTRIES_PER_SECOND)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def limits(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in LIMIT_NAMES}


class LimitOverride(models.Model):
    """One limit of one tenant that differs from its plan."""

    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="limit_overrides")
    limit = models.CharField(max_length=64, choices=Limit.choices)
    value = models.PositiveBigIntegerField(validators=[MinValueValidator(0)])
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "limit"], name="unique_limit_override")]
        ordering = ["tenant", "limit"]

    def __str__(self):
        return f"{self.get_limit_display()} = {self.value}"
