from django.db import migrations

from tenants.capabilities import BUILTIN_ROLES

PLANS = {
    "free": ("Free", {"requests_per_minute": 60, "max_concurrent_requests": 2, "max_mcp_sessions": 3,
                      "storage_bytes": 100 * 1024 * 1024, "max_artifact_bytes": 5 * 1024 * 1024, "kv_items": 1_000,
                      "events_per_minute": 60, "events_per_month": 10_000, "secrets_count": 10}),
    "standard": ("Standard", {}),
}


def seed(apps, schema_editor):
    Role = apps.get_model("tenants", "Role")
    Plan = apps.get_model("tenants", "Plan")
    PolicyState = apps.get_model("tenants", "PolicyState")
    for slug, (name, capabilities) in BUILTIN_ROLES.items():
        Role.objects.update_or_create(
            slug=slug, defaults={"name": name, "capabilities": sorted(capabilities), "is_builtin": True}
        )
    for slug, (name, limits) in PLANS.items():
        Plan.objects.get_or_create(slug=slug, defaults={"name": name, **limits})
    PolicyState.objects.get_or_create(pk=1)


def audit_is_append_only(apps, schema_editor):
    # Deletes stay possible at the database level (test flushes, retention jobs); the ORM refuses them.
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        schema_editor.execute(
            "CREATE TRIGGER tenants_auditevent_no_update BEFORE UPDATE ON tenants_auditevent "
            "BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END;"
        )
    elif vendor == "postgresql":
        schema_editor.execute(
            "CREATE OR REPLACE FUNCTION tenants_auditevent_no_update() RETURNS trigger AS $$ "
            "BEGIN RAISE EXCEPTION 'audit events are append-only'; END; $$ LANGUAGE plpgsql;"
        )
        schema_editor.execute(
            "CREATE TRIGGER tenants_auditevent_no_update BEFORE UPDATE ON tenants_auditevent "
            "FOR EACH ROW EXECUTE FUNCTION tenants_auditevent_no_update();"
        )


def drop_trigger(apps, schema_editor):
    schema_editor.execute("DROP TRIGGER IF EXISTS tenants_auditevent_no_update ON tenants_auditevent"
                          if schema_editor.connection.vendor == "postgresql"
                          else "DROP TRIGGER IF EXISTS tenants_auditevent_no_update")


class Migration(migrations.Migration):
    dependencies = [("tenants", "0001_initial")]

    operations = [
        migrations.RunPython(seed, migrations.RunPython.noop),
        migrations.RunPython(audit_is_append_only, drop_trigger),
    ]
