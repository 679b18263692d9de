"""The policy-version read that starts every governed call doubles as the kept connection's health check: one
round trip instead of two per call, and a connection the database dropped is still replaced, not reported."""

import psycopg
import pytest
from django.db import close_old_connections, connection

from tenants.policy.version import policy_version, policy_version_bump

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def kept_connection(settings):
    """This thread's connection configured as a serving process keeps it (controlplane.database.keep_connections),
    reading the version from the database on every call (no shared version file: PostgreSQL's default)."""
    settings.POLICY_VERSION_FILE = "off"
    saved = {key: connection.settings_dict[key] for key in ("CONN_MAX_AGE", "CONN_HEALTH_CHECKS")}
    connection.close()
    connection.settings_dict.update(CONN_MAX_AGE=300, CONN_HEALTH_CHECKS=True)
    connection.ensure_connection()
    yield connection
    connection.close()
    connection.settings_dict.update(saved)


def test_version_read_replaces_the_separate_health_check(kept_connection, monkeypatch):
    start = policy_version()
    checks = []
    real = kept_connection.is_usable
    monkeypatch.setattr(kept_connection, "is_usable", lambda: checks.append(1) or real())
    for expected in (start, start + 1):
        close_old_connections()  # what each call does first: the next query must check the connection
        assert policy_version() == expected
        assert checks == []
        policy_version_bump()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="terminating a backend needs PostgreSQL")
def test_dropped_connection_is_replaced_by_the_version_read(kept_connection):
    policy_version_bump()
    version = policy_version()
    with kept_connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        dropped = cursor.fetchone()[0]
    db = kept_connection.settings_dict
    with psycopg.connect(host=db["HOST"], port=db["PORT"], user=db["USER"], dbname=db["NAME"], autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [dropped])
    close_old_connections()
    assert policy_version() == version  # answered, on a new connection
    with kept_connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        assert cursor.fetchone()[0] != dropped
