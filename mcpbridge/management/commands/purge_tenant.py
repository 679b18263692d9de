from django.core.management import BaseCommand, CommandError
from tqdm import tqdm

from mcpbridge.services.provisioning import tenant_data_purge
from tenants.models.tenants import TenantStatus
from tenants.selectors import tenant_get
from tenants.services import Actor, ServiceError, tenant_offboard


class Command(BaseCommand):
    help = (
        "Purge an offboarding tenant's data (KV items, artifacts, secrets) now, in this process, with a progress "
        "bar, and mark it offboarded. Resumable: after an interruption, run it again to continue. "
        "Normally a Celery task does this when a tenant is offboarded."
    )

    def add_arguments(self, parser):
        parser.add_argument("tenant", help="Tenant slug or id.")
        parser.add_argument(
            "--offboard", action="store_true", help="Start offboarding first if the tenant is active or suspended."
        )

    def handle(self, *args, tenant, offboard, **options):
        found = tenant_get(slug_or_id=tenant)
        if found is None:
            raise CommandError(f"No tenant {tenant!r}.")
        if found.status in (TenantStatus.ACTIVE, TenantStatus.SUSPENDED):
            if not offboard:
                raise CommandError(
                    f"Tenant {found.slug} is {found.status}; pass --offboard to end its access and purge its data."
                )
            try:
                tenant_offboard(tenant=found, actor=Actor.system("cli"))
            except ServiceError as exc:
                raise CommandError(exc.message) from exc
            found.refresh_from_db()
        if found.status == TenantStatus.OFFBOARDED:
            self.stdout.write(f"Tenant {found.slug} is already offboarded.")
            return
        with tqdm(unit=" items", desc=f"purging {found.slug}", disable=options["verbosity"] == 0) as bar:
            state = tenant_data_purge(
                tenant_id=found.pk, on_progress=lambda store, count: (bar.set_postfix_str(store), bar.update(count))
            )
        self.stdout.write(self.style.SUCCESS(f"Purged tenant {found.slug}: {state.purge_progress or 'nothing stored'}."))
