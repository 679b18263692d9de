from django.core.management import BaseCommand, CommandError
from tqdm import tqdm

from mcpbridge.services.reconcile import usage_reconcile
from tenants.models import Tenant
from tenants.models.tenants import TenantStatus
from tenants.selectors import tenant_get


class Command(BaseCommand):
    help = (
        "Recompute quota usage (storage bytes, KV items, secrets) from what the data-plane backends hold, "
        "for one tenant or every tenant that is not offboarded, with a progress bar."
    )

    def add_arguments(self, parser):
        parser.add_argument("--tenant", help="Only this tenant (slug or id).")

    def handle(self, *args, tenant=None, **options):
        if tenant:
            found = tenant_get(slug_or_id=tenant)
            if found is None:
                raise CommandError(f"No tenant {tenant!r}.")
            tenants = [found]
        else:
            tenants = list(Tenant.objects.exclude(status=TenantStatus.OFFBOARDED).order_by("slug"))
        for item in tqdm(tenants, unit=" tenants", desc="reconciling", disable=options["verbosity"] == 0 or len(tenants) < 2):
            usage = usage_reconcile(tenant_id=item.pk)
            if options["verbosity"] > 1 or len(tenants) == 1:
                self.stdout.write(f"{item.slug}: {usage}")
        self.stdout.write(self.style.SUCCESS(f"Reconciled {len(tenants)} tenant(s)."))
