"""The purge and reconciliation commands operators run by hand."""

import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from mcpbridge.dataplane import data_plane
from mcpbridge.models import TenantDataPlane
from mcpbridge.services.artifacts import artifact_put
from mcpbridge.services.provisioning import provisioning_marker_key, tenant_data_provision_pending
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


def test_bootstrap_before_aws_bootstrap_names_the_step_and_provisions_the_demo_tenant_afterwards(
    settings, moto_server, django_capture_on_commit_callbacks, caplog
):
    moto_server.reset()  # nothing created: no table, bucket or buses
    settings.DATAPLANE_BACKEND = "aws"
    settings.AWS_ENDPOINT_URL = moto_server.url
    settings.AWS_MAX_ATTEMPTS = 1
    out = StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("bootstrap", "--no-migrate", stdout=out, stderr=StringIO())
    text = out.getvalue()
    assert "AWS data plane not set up yet (missing DynamoDB table controlplane-kv" in text
    assert "run `python manage.py aws_bootstrap` next" in text
    assert len(re.findall(r"cpk_\S+", text)) == 3  # the control-plane part is complete
    assert not [r for r in caplog.records if r.exc_info], "no traceback"
    demo = Tenant.objects.get(slug="demo")
    assert not TenantDataPlane.objects.filter(tenant=demo, provisioned_at__isnull=False).exists()

    done = StringIO()
    call_command("aws_bootstrap", stdout=done)
    assert "Tenant data planes provisioned now: 1" in done.getvalue()
    state = TenantDataPlane.objects.get(tenant=demo)
    assert state.provisioned_at is not None and state.provisioning["backend"] == "aws"
    assert data_plane().artifacts.head(provisioning_marker_key(demo.id)) is not None
    again = StringIO()
    call_command("aws_bootstrap", stdout=again)
    assert "Tenant data planes provisioned now: 0" in again.getvalue()


def test_pending_provisioning_skips_offboarded_tenants_and_stops_at_a_backend_failure(aws_backend, moto_server):
    live, gone = make_tenant(), make_tenant()
    Tenant.objects.filter(pk=gone.pk).update(status="offboarded")
    assert tenant_data_provision_pending() == (1, 0)
    assert TenantDataPlane.objects.get(tenant=live).provisioned_at is not None
    assert not TenantDataPlane.objects.filter(tenant=gone, provisioned_at__isnull=False).exists()
    moto_server.reset()  # the bucket is gone again
    make_tenant(), make_tenant()
    assert tenant_data_provision_pending() == (0, 2)
