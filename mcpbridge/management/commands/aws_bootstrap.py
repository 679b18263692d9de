from botocore.exceptions import BotoCoreError, ClientError
from django.core.management.base import BaseCommand, CommandError

from mcpbridge.dataplane.aws.bootstrap import bootstrap_all
from mcpbridge.dataplane.ports import BackendError
from mcpbridge.services.provisioning import tenant_data_provision_pending


class Command(BaseCommand):
    help = (
        "Create the DynamoDB table (with TTL), the S3 bucket and the EventBridge buses if missing, then provision "
        "the data plane of tenants still waiting for it. Safe to rerun."
    )

    def handle(self, *args, **options):
        try:
            for line in bootstrap_all():
                self.stdout.write(line)
        except (BotoCoreError, ClientError, BackendError) as exc:
            raise CommandError(f"AWS bootstrap failed: {exc}") from None
        provisioned, pending = tenant_data_provision_pending()
        self.stdout.write(f"Tenant data planes provisioned now: {provisioned}")
        if pending:
            raise CommandError(f"{pending} tenant data plane(s) are still pending; see the log above and rerun.")
