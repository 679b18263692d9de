import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _fresh_cache():
    from tenants.policy.resolver import forget_recent
    from tenants.policy.version import forget_version_files

    cache.clear()
    forget_recent()
    forget_version_files()
    yield
    cache.clear()
    forget_recent()
    forget_version_files()


@pytest.fixture
def lifecycle_events():
    """Every tenant_lifecycle signal sent during the test, as (tenant slug, event, previous)."""
    from tenants.signals import tenant_lifecycle

    seen = []

    def receiver(sender, tenant, event, previous, **kwargs):
        seen.append((tenant.slug, event, previous))

    tenant_lifecycle.connect(receiver, dispatch_uid="test-lifecycle-receiver")
    yield seen
    tenant_lifecycle.disconnect(dispatch_uid="test-lifecycle-receiver")


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="session", autouse=True)
def _end_stray_database_sessions(django_db_setup, django_db_blocker):
    """Worker threads of async tests keep their own connections; end them so the test database can be dropped."""
    yield
    from django.db import connection

    with django_db_blocker.unblock():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
