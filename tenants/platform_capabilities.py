"""Capabilities of platform service keys: what provisioning automation may do across tenants.

Kept apart from the tenant vocabulary in tenants/capabilities.py on purpose: no role grants these and no
tenant API key can be scoped to them, and no service key can hold a tenant capability.
"""

from django.db import models


class PlatformCapability(models.TextChoices):
    TENANTS_READ = "platform.tenants.read", "List and read tenants and their effective limits"
    TENANTS_CREATE = "platform.tenants.create", "Create tenants and rename them"
    TENANTS_LIFECYCLE = "platform.tenants.lifecycle", "Suspend, resume and offboard tenants"
    PLANS = "platform.plans", "Create and edit plans, and move tenants between plans"
    LIMITS = "platform.limits", "Read, set and clear tenants' limit overrides"


ALL_PLATFORM_CAPABILITIES: frozenset[str] = frozenset(PlatformCapability.values)


def validate_platform_capabilities(values) -> list[str]:
    """Return the values sorted and de-duplicated, or raise ValueError naming the unknown ones."""
    values = list(values or [])
    unknown = sorted({str(v) for v in values if v not in ALL_PLATFORM_CAPABILITIES})
    if unknown:
        raise ValueError(
            f"Unknown platform capabilities: {', '.join(unknown)}. "
            f"Known: {', '.join(sorted(ALL_PLATFORM_CAPABILITIES))}."
        )
    if not values:
        raise ValueError(
            f"Give the key at least one platform capability: {', '.join(sorted(ALL_PLATFORM_CAPABILITIES))}."
        )
    return sorted(set(values))
