import datetime

from django.core.management import BaseCommand, CommandError
from django.utils import timezone

from tenants.models import ServiceAccount
from tenants.platform_capabilities import ALL_PLATFORM_CAPABILITIES
from tenants.services import Actor, ServiceError, service_account_create, service_key_issue


class Command(BaseCommand):
    help = (
        "Issue a platform service key for provisioning automation and print it (the only time it is shown). "
        "The service account is created when it does not exist yet."
    )

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True, help="Service account name, e.g. provisioning-pipeline.")
        parser.add_argument(
            "--capability",
            action="append",
            required=True,
            choices=sorted(ALL_PLATFORM_CAPABILITIES),
            metavar="CAPABILITY",
            help="A platform capability of the key; repeat for more. "
            f"One of: {', '.join(sorted(ALL_PLATFORM_CAPABILITIES))}.",
        )
        parser.add_argument(
            "--key-name", default="cli key", help="A name to tell the key apart (default: %(default)s)."
        )
        parser.add_argument("--description", default="", help="What the service account is for (new accounts only).")
        parser.add_argument("--expires-in-days", type=int, help="Expire the key after this many days.")

    def handle(self, *args, **options):
        expires_at = None
        if options["expires_in_days"] is not None:
            if options["expires_in_days"] <= 0:
                raise CommandError("--expires-in-days must be 1 or more.")
            expires_at = timezone.now() + datetime.timedelta(days=options["expires_in_days"])
        actor = Actor.system("cli")
        try:
            account = ServiceAccount.objects.filter(name=options["name"]).first() or service_account_create(
                name=options["name"], description=options["description"], actor=actor
            )
            key, raw = service_key_issue(
                account=account,
                name=options["key_name"],
                capabilities=options["capability"],
                expires_at=expires_at,
                actor=actor,
            )
        except ServiceError as exc:
            raise CommandError(exc.message) from exc
        self.stderr.write(
            f"Issued service key {key.prefix} for service account {account.name} "
            f"({', '.join(key.capabilities)}); copy it now, it is not shown again."
        )
        self.stdout.write(raw)
