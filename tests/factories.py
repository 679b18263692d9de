"""Small builders for test data. They go through the services, as every adapter does."""

import itertools

from django.contrib.auth import get_user_model

from tenants.models import Plan, Role
from tenants.services import (
    Actor,
    api_key_issue,
    membership_add,
    org_membership_add,
    organization_create,
    tenant_create,
)

ACTOR = Actor("test")
_seq = itertools.count(1)


def make_user(username: str | None = None, **extra):
    return get_user_model().objects.create_user(username=username or f"user{next(_seq)}", password=None, **extra)


def make_tenant(slug: str | None = None, plan: str = "standard", **extra):
    return tenant_create(slug=slug or f"tenant-{next(_seq)}", name="Test tenant", plan=Plan.objects.get(slug=plan), actor=ACTOR, **extra)


def make_member(tenant, role: str = "user", username: str | None = None):
    return membership_add(tenant=tenant, user=make_user(username), role=Role.objects.get(slug=role), actor=ACTOR)


def make_org(tenant, slug: str | None = None):
    return organization_create(tenant=tenant, slug=slug or f"org-{next(_seq)}", name="Test org", actor=ACTOR)


def add_to_org(org, membership, role: str = "user"):
    return org_membership_add(organization=org, membership=membership, role=Role.objects.get(slug=role), actor=ACTOR)


def make_key(membership, **kwargs):
    """Return (ApiKey, raw key)."""
    kwargs.setdefault("name", "test key")
    return api_key_issue(membership=membership, actor=ACTOR, **kwargs)


def revoke_in_another_process(key) -> None:
    """Revoke `key` from a separate `manage.py shell` on this test's database (and its POLICY_VERSION_FILE)."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    from django.conf import settings
    from django.db import connection

    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "controlplane.settings"}
    db = settings.DATABASES["default"]
    if connection.vendor == "sqlite":
        env["DATABASE_URL"] = f"sqlite:///{db['NAME']}"
    else:
        env["DATABASE_URL"] = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
        env["POLICY_VERSION_FILE"] = settings.POLICY_VERSION_FILE
    script = (
        "from tenants.models import ApiKey; from tenants.services import Actor, api_key_revoke; "
        f"api_key_revoke(api_key=ApiKey.objects.get(pk='{key.pk}'), actor=Actor('other-process'))"
    )
    root = Path(__file__).resolve().parent.parent
    subprocess.run([sys.executable, "manage.py", "shell", "-c", script], cwd=root, env=env, check=True, timeout=60)
