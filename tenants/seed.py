"""Built-in roles, starter plans and the policy-state row: present after every migrate (and test flush)."""

from tenants.capabilities import BUILTIN_ROLES

STARTER_PLANS = {
    "free": (
        "Free",
        {
            "requests_per_minute": 60,
            "max_concurrent_requests": 2,
            "max_mcp_sessions": 3,
            "max_mcp_sessions_per_key": 2,
            "storage_bytes": 100 * 1024 * 1024,
            "max_artifact_bytes": 5 * 1024 * 1024,
            "kv_items": 1_000,
            "events_per_minute": 60,
            "events_per_month": 10_000,
            "secrets_count": 10,
        },
    ),
    "standard": ("Standard", {}),
}


def ensure_builtin_data(Role, Plan, PolicyState) -> None:
    """Create what is missing; never overwrite what an admin edited."""
    for slug, (name, capabilities) in BUILTIN_ROLES.items():
        Role.objects.get_or_create(
            slug=slug, defaults={"name": name, "capabilities": sorted(capabilities), "is_builtin": True}
        )
    # A migration's historical Plan may predate some limits; those come with a later migration.
    known = {field.name for field in Plan._meta.get_fields()}
    for slug, (name, limits) in STARTER_PLANS.items():
        Plan.objects.get_or_create(
            slug=slug, defaults={"name": name, **{limit: v for limit, v in limits.items() if limit in known}}
        )
    PolicyState.objects.get_or_create(pk=1)


def seed_after_migrate(sender, **kwargs) -> None:
    from tenants.models import Plan, PolicyState, Role

    ensure_builtin_data(Role, Plan, PolicyState)
