from mcpbridge.models.local_store import LocalArtifact, LocalDeliveredEvent, LocalKVItem, LocalSecret
from mcpbridge.models.outbox import OutboxEvent
from mcpbridge.models.quotas import QuotaUsage
from mcpbridge.models.sessions import McpSession
from mcpbridge.models.tenant_data import TenantDataPlane

__all__ = [
    "LocalArtifact",
    "LocalDeliveredEvent",
    "LocalKVItem",
    "LocalSecret",
    "McpSession",
    "OutboxEvent",
    "QuotaUsage",
    "TenantDataPlane",
]
