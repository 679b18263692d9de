"""API key scopes become explicit: null is "the role's capabilities", [] is "no capabilities".

Until now both null and [] (and any other empty value) resolved to the role's capabilities, so every stored
empty value becomes null: each live key keeps exactly the capabilities it had. Going back, a key with [] would
silently become unrestricted under the old code, so such keys are revoked instead.
"""

from django.db import migrations, models
from django.utils import timezone


def empty_scopes_to_role(apps, schema_editor):
    ApiKey = apps.get_model("tenants", "ApiKey")
    for key in ApiKey.objects.filter(scopes__isnull=False).only("pk", "scopes").iterator():
        if not key.scopes:
            ApiKey.objects.filter(pk=key.pk).update(scopes=None)


def revoke_keys_with_no_capabilities(apps, schema_editor):
    ApiKey = apps.get_model("tenants", "ApiKey")
    for key in ApiKey.objects.filter(scopes__isnull=False, revoked_at__isnull=True).only("pk", "scopes").iterator():
        if not key.scopes:
            ApiKey.objects.filter(pk=key.pk).update(
                revoked_at=timezone.now(), revoked_reason="migration 0004 reversed: an empty scope would mean unrestricted"
            )


class Migration(migrations.Migration):

    dependencies = [
        ("tenants", "0003_api_idempotency_and_app_plane_events"),
    ]

    operations = [
        migrations.AlterField(
            model_name="apikey",
            name="scopes",
            field=models.JSONField(
                blank=True,
                help_text="null: whatever the member's role grants (unrestricted); a list: only these capabilities "
                "(an empty list: none).",
                null=True,
            ),
        ),
        migrations.RunPython(empty_scopes_to_role, revoke_keys_with_no_capabilities),
    ]
