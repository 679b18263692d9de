import re
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from tenants.models import ApiKey, Organization, Tenant
from tenants.policy import resolve_api_key

pytestmark = pytest.mark.django_db


def test_bootstrap_creates_demo_and_prints_working_keys_once(monkeypatch):
    monkeypatch.delenv("DJANGO_SUPERUSER_PASSWORD", raising=False)
    out = StringIO()
    call_command("bootstrap", "--no-migrate", stdout=out)
    text = out.getvalue()
    password = re.search(r"Password:\s+(\S+)", text).group(1)
    assert get_user_model().objects.get(username="admin").check_password(password)
    keys = dict(re.findall(r"^\s+(admin|user|viewer)\s+\S+\s+(cpk_\S+)$", text, re.M))
    assert set(keys) == {"admin", "user", "viewer"}
    for role, raw in keys.items():
        principal = resolve_api_key(raw)
        assert principal.tenant_slug == "demo" and principal.role == role
        assert principal.in_context("research").context_role == role
    assert Organization.objects.filter(tenant__slug="demo", slug="research").exists()

    again = StringIO()
    call_command("bootstrap", "--no-migrate", stdout=again)
    assert "cpk_" not in again.getvalue() and "Password:  " not in again.getvalue()
    assert Tenant.objects.filter(slug="demo").count() == 1 and ApiKey.objects.count() == 3


def test_bootstrap_says_where_to_log_in_and_how_to_get_a_key_on_every_run(monkeypatch):
    monkeypatch.delenv("DJANGO_SUPERUSER_PASSWORD", raising=False)
    first = StringIO()
    call_command("bootstrap", "--no-migrate", "--url", "http://127.0.0.1:9000/", stdout=first)
    assert "Admin:  http://127.0.0.1:9000/admin/   (log in as admin with the password printed above)" in first.getvalue()
    assert "MCP:    http://127.0.0.1:9000/mcp      (Authorization: Bearer <an API key printed above>)" in first.getvalue()

    again = StringIO()
    call_command("bootstrap", "--no-migrate", "--url", "http://127.0.0.1:9000", stdout=again)
    text = again.getvalue()
    assert "printed above" not in text and "cpk_" not in text
    assert "python manage.py changepassword admin" in text
    assert "a new one: python manage.py issue_api_key --tenant demo --user demo-user" in text
    out = StringIO()
    call_command("issue_api_key", "--tenant", "demo", "--user", "demo-user", stdout=out)
    assert resolve_api_key(re.search(r"cpk_\S+", out.getvalue()).group(0)).tenant_slug == "demo"


def test_bootstrap_takes_superuser_from_environment(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_USERNAME", "ops")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "a-long-chosen-password")
    out = StringIO()
    call_command("bootstrap", "--no-migrate", "--no-demo", stdout=out)
    assert "a-long-chosen-password" not in out.getvalue()
    assert get_user_model().objects.get(username="ops").check_password("a-long-chosen-password")


def test_issue_api_key_prints_a_scoped_key():
    call_command("bootstrap", "--no-migrate", stdout=StringIO())
    out = StringIO()
    call_command("issue_api_key", "--tenant", "demo", "--user", "demo-user", "--scope", "kv.read", "--org", "research", stdout=out, stderr=StringIO())
    principal = resolve_api_key(out.getvalue().strip())
    assert principal.capabilities == frozenset({"kv.read"}) and principal.context.org_slug == "research"


@pytest.mark.parametrize(
    "args,message",
    [
        (["--tenant", "nope", "--user", "demo-user"], "No tenant 'nope'"),
        (["--tenant", "demo", "--user", "ghost"], "not a member"),
        (["--tenant", "demo", "--user", "demo-user", "--org", "nope"], "no organization 'nope'"),
        (["--tenant", "demo", "--user", "demo-user", "--expires-in-days", "0"], "1 or more"),
    ],
)
def test_issue_api_key_explains_bad_input(args, message):
    call_command("bootstrap", "--no-migrate", stdout=StringIO())
    with pytest.raises(CommandError, match=message):
        call_command("issue_api_key", *args, stdout=StringIO(), stderr=StringIO())
