"""Every limit a plan carries and a tenant may override, in one list."""

from django.db import models


class Limit(models.TextChoices):
    REQUESTS_PER_MINUTE = "requests_per_minute", "Requests per minute"
    MAX_CONCURRENT_REQUESTS = "max_concurrent_requests", "Max concurrent requests"
    MAX_MCP_SESSIONS = "max_mcp_sessions", "Max MCP sessions"
    MAX_MCP_SESSIONS_PER_KEY = "max_mcp_sessions_per_key", "Max MCP sessions per API key"
    STORAGE_BYTES = "storage_bytes", "Artifact storage (bytes)"
    MAX_ARTIFACT_BYTES = "max_artifact_bytes", "Max artifact size (bytes)"
    KV_ITEMS = "kv_items", "Key-value items"
    MAX_KV_VALUE_BYTES = "max_kv_value_bytes", "Max key-value value size (bytes)"
    EVENTS_PER_MINUTE = "events_per_minute", "Events per minute"
    EVENTS_PER_MONTH = "events_per_month", "Events per month"
    SECRETS_COUNT = "secrets_count", "Secrets"
    DYNAMODB_READ_UNITS_PER_SECOND = "dynamodb_read_units_per_second", "DynamoDB read units per second"
    DYNAMODB_WRITE_UNITS_PER_SECOND = "dynamodb_write_units_per_second", "DynamoDB write units per second"
    S3_REQUESTS_PER_SECOND = "s3_requests_per_second", "S3 requests per second"
    EVENTBRIDGE_ENTRIES_PER_SECOND = "eventbridge_entries_per_second", "EventBridge entries per second"


LIMIT_NAMES: tuple[str, ...] = tuple(Limit.values)

# Defaults for a new plan; DynamoDB's item limit (400 KB) and Secrets Manager's (64 KiB) cap the sizes.
DEFAULT_LIMITS: dict[str, int] = {
    Limit.REQUESTS_PER_MINUTE: 600,
    Limit.MAX_CONCURRENT_REQUESTS: 8,
    Limit.MAX_MCP_SESSIONS: 20,
    # Below the tenant's cap, so one key (even a viewer's) cannot take every session of its tenant.
    Limit.MAX_MCP_SESSIONS_PER_KEY: 5,
    Limit.STORAGE_BYTES: 1024 * 1024 * 1024,
    Limit.MAX_ARTIFACT_BYTES: 50 * 1024 * 1024,
    Limit.KV_ITEMS: 10_000,
    Limit.MAX_KV_VALUE_BYTES: 64 * 1024,
    Limit.EVENTS_PER_MINUTE: 600,
    Limit.EVENTS_PER_MONTH: 100_000,
    Limit.SECRETS_COUNT: 50,
    Limit.DYNAMODB_READ_UNITS_PER_SECOND: 100,
    Limit.DYNAMODB_WRITE_UNITS_PER_SECOND: 50,
    Limit.S3_REQUESTS_PER_SECOND: 50,
    Limit.EVENTBRIDGE_ENTRIES_PER_SECOND: 50,
}
