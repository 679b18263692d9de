from django.db import migrations

from tenants.seed import ensure_builtin_data


def seed(apps, schema_editor):
    ensure_builtin_data(apps.get_model("tenants", "Role"), apps.get_model("tenants", "Plan"), apps.get_model("tenants", "PolicyState"))


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
