import pytest
from django.apps import apps
from django.db import connection, transaction
from django.db.utils import DatabaseError
from django.test import override_settings

from tenants.models import ApiKey, AuditEvent
from tenants.models.audit import AppendOnlyError
from tenants.policy import resolve_api_key
from tenants.policy.keys import key_digest
from tenants.services import Actor, audit_record
from tests.factories import make_key, make_member, make_tenant

pytestmark = pytest.mark.django_db


def _every_stored_text() -> str:
    """Everything in every table of the project, as text."""
    chunks = []
    with connection.cursor() as cursor:
        for model in apps.get_models():
            table = connection.ops.quote_name(model._meta.db_table)
            cursor.execute(f"SELECT * FROM {table}")
            chunks.extend(repr(row) for row in cursor.fetchall())
    return "\n".join(chunks)


def test_raw_key_is_nowhere_in_the_database():
    key, raw = make_key(make_member(make_tenant()), name="probe")
    secret_part = raw.split("_", 2)[2]
    stored = _every_stored_text()
    assert key.prefix in stored  # the visible part is stored...
    assert raw not in stored and secret_part not in stored  # ...the secret is not, anywhere (audit included)
    assert ApiKey.objects.get(pk=key.pk).digest == key_digest(raw) != raw


def test_digest_is_keyed():
    _, raw = make_key(make_member(make_tenant()))
    with override_settings(API_KEY_HMAC_KEY="another key"):
        assert key_digest(raw) != ApiKey.objects.get().digest


def test_a_stolen_digest_does_not_authenticate():
    key, _ = make_key(make_member(make_tenant()))
    from tenants.policy import ResolutionError

    with pytest.raises(ResolutionError):
        resolve_api_key(f"{key.prefix}_{key.digest[:43]}")


def test_audit_events_cannot_be_changed_or_deleted():
    event = audit_record(actor=Actor("tester"), target="thing", details={"operation": "x"})
    event.target = "other"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).update(target="other")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().delete()
    # Even raw SQL is refused by the database.
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"UPDATE tenants_auditevent SET target = 'other' WHERE id = {event.pk}")
    assert AuditEvent.objects.get(pk=event.pk).target == "thing"


def test_audit_details_never_keep_secret_values():
    event = audit_record(
        actor=Actor("tester"), target="secret:db", details={"operation": "secrets.put", "value": "hunter2", "name": "db"}
    )
    assert "hunter2" not in repr(AuditEvent.objects.get(pk=event.pk).details)
    assert event.details == {"operation": "secrets.put", "name": "db"}
