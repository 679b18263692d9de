from django.db import migrations, models

# The one change an audit row may take: an aggregated refusal row's count grows. Everything else still aborts.
_COLUMNS = (
    "id", "created_at", "actor", "actor_user_id", "tenant_id", "action", "target", "outcome", "latency_ms",
    "request_id", "details", "bucket",
)


def count_may_grow(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        unchanged = " AND ".join(f"NEW.{column} IS OLD.{column}" for column in _COLUMNS)
        # Rebuilding the table for the new columns dropped the old trigger; this one replaces it.
        schema_editor.execute("DROP TRIGGER IF EXISTS tenants_auditevent_no_update")
        schema_editor.execute(
            "CREATE TRIGGER tenants_auditevent_no_update BEFORE UPDATE ON tenants_auditevent "
            f"WHEN NOT (OLD.bucket IS NOT NULL AND NEW.count >= OLD.count AND {unchanged}) "
            "BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END;"
        )
    elif vendor == "postgresql":
        new = ", ".join(f"NEW.{column}" for column in _COLUMNS)
        old = ", ".join(f"OLD.{column}" for column in _COLUMNS)
        schema_editor.execute(
            "CREATE OR REPLACE FUNCTION tenants_auditevent_no_update() RETURNS trigger AS $$ BEGIN "
            f"IF OLD.bucket IS NOT NULL AND NEW.count >= OLD.count AND ({new}) IS NOT DISTINCT FROM ({old}) "
            "THEN RETURN NEW; END IF; "
            "RAISE EXCEPTION 'audit events are append-only'; END; $$ LANGUAGE plpgsql;"
        )


def nothing_may_change(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        schema_editor.execute("DROP TRIGGER IF EXISTS tenants_auditevent_no_update")
        schema_editor.execute(
            "CREATE TRIGGER tenants_auditevent_no_update BEFORE UPDATE ON tenants_auditevent "
            "BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END;"
        )
    elif vendor == "postgresql":
        schema_editor.execute(
            "CREATE OR REPLACE FUNCTION tenants_auditevent_no_update() RETURNS trigger AS $$ "
            "BEGIN RAISE EXCEPTION 'audit events are append-only'; END; $$ LANGUAGE plpgsql;"
        )


class Migration(migrations.Migration):

    dependencies = [
        ("tenants", "0003_api_idempotency_and_app_plane_events"),
    ]

    operations = [
        migrations.AddField(
            model_name="auditevent",
            name="bucket",
            field=models.CharField(blank=True, editable=False, max_length=200, null=True, unique=True),
        ),
        migrations.AddField(
            model_name="auditevent",
            name="count",
            field=models.PositiveIntegerField(default=1, help_text="How many refusals this row stands for (aggregated)."),
        ),
        migrations.RunPython(count_may_grow, nothing_may_change),
    ]
