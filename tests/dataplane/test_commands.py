"""The purge and reconciliation commands operators run by hand."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from mcpbridge.services.artifacts import artifact_put
from mcpbridge.services.kv import kv_set
from mcpbridge.services.quotas import quota_set, quota_status
from mcpbridge.services.secrets import secret_put
from tenants.models import Tenant
from tests.dataplane import stores
from tests.factories import make_tenant

pytestmark = pytest.mark.django_db


def _fill(principal, n=3):
    for i in range(n):
        kv_set(principal=principal, key=f"k{i}", value="v")
    artifact_put(principal=principal, name="report.txt", content="hello")
    secret_put(principal=principal, name="db", value="pw")


def test_purge_tenant_command_purges_only_that_tenant(backend, make_principal, capsys):
    doomed, kept = make_tenant(), make_tenant()
    _fill(make_principal(tenant=doomed, role="admin"), 130)
    _fill(make_principal(tenant=kept, role="admin"))
    with pytest.raises(CommandError, match="pass --offboard"):
        call_command("purge_tenant", doomed.slug, stdout=StringIO(), stderr=StringIO())
    assert Tenant.objects.get(pk=doomed.pk).status == "active"

    out = StringIO()
    capsys.readouterr()
    call_command("purge_tenant", doomed.slug, "--offboard", stdout=out)
    assert Tenant.objects.get(pk=doomed.pk).status == "offboarded"
    assert "'kv': 130" in out.getvalue()
    assert "132 items" in capsys.readouterr().err  # the progress bar (on stderr) counted every item
    everything = [k for k, _ in stores.all_kv()] + stores.all_artifact_keys() + stores.all_secret_names()
    assert not [k for k in everything if str(doomed.id) in k]
    assert len([k for k in everything if str(kept.id) in k]) >= 5
    again = StringIO()
    call_command("purge_tenant", doomed.slug, stdout=again)
    assert "already offboarded" in again.getvalue()


def test_reconcile_usage_command_fixes_drifted_counters(backend, make_principal):
    p = make_principal(role="admin")
    _fill(p, 2)
    quota_set(tenant_id=p.tenant_id, limit="kv_items", used=999)
    out = StringIO()
    call_command("reconcile_usage", "--tenant", p.tenant_slug, stdout=out, stderr=StringIO())
    assert quota_status(principal=p)["kv_items"]["used"] == 2
    assert "Reconciled 1 tenant(s)." in out.getvalue()
    with pytest.raises(CommandError, match="No tenant 'ghost'"):
        call_command("reconcile_usage", "--tenant", "ghost", stdout=StringIO())
