from botocore.exceptions import BotoCoreError, ClientError
from django.core.management.base import BaseCommand, CommandError

from mcpbridge.dataplane.aws.bootstrap import bootstrap_all
from mcpbridge.dataplane.ports import BackendError


class Command(BaseCommand):
    help = "Create the DynamoDB table (with TTL), the S3 bucket and the EventBridge buses if missing. Safe to rerun."

    def handle(self, *args, **options):
        try:
            for line in bootstrap_all():
                self.stdout.write(line)
        except (BotoCoreError, ClientError, BackendError) as exc:
            raise CommandError(f"AWS bootstrap failed: {exc}") from None
