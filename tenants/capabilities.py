"""The fixed vocabulary of capabilities. Roles grant subsets of it; API keys may narrow it further."""

from django.db import models


class Capability(models.TextChoices):
    KV_READ = "kv.read", "Read key-value items"
    KV_WRITE = "kv.write", "Write and delete key-value items"
    ARTIFACTS_GET = "artifacts.get", "Read artifacts"
    ARTIFACTS_PUT = "artifacts.put", "Upload artifacts"
    ARTIFACTS_LIST = "artifacts.list", "List artifacts"
    ARTIFACTS_DELETE = "artifacts.delete", "Delete artifacts"
    EVENTS_SEND = "events.send", "Send events"
    SECRETS_READ = "secrets.read", "Read secrets"
    SECRETS_WRITE = "secrets.write", "Write secrets"
    TENANT_MANAGE = "tenant.manage", "Manage the tenant through the provisioning API"


ALL_CAPABILITIES: frozenset[str] = frozenset(Capability.values)

BUILTIN_ROLES: dict[str, tuple[str, frozenset[str]]] = {
    "admin": ("Administrator", ALL_CAPABILITIES),
    "user": (
        "User",
        frozenset(
            {
                Capability.KV_READ,
                Capability.KV_WRITE,
                Capability.ARTIFACTS_GET,
                Capability.ARTIFACTS_PUT,
                Capability.ARTIFACTS_LIST,
                Capability.EVENTS_SEND,
                Capability.SECRETS_READ,
            }
        ),
    ),
    "viewer": ("Viewer", frozenset({Capability.KV_READ, Capability.ARTIFACTS_GET, Capability.ARTIFACTS_LIST})),
}


def validate_capabilities(values) -> list[str]:
    """Return the values sorted and de-duplicated, or raise ValueError naming the unknown ones."""
    values = list(values)
    unknown = sorted({v for v in values if v not in ALL_CAPABILITIES})
    if unknown:
        raise ValueError(
            f"Unknown capabilities: {', '.join(unknown)}. Known: {', '.join(sorted(ALL_CAPABILITIES))}."
        )
    return sorted(set(values))
