import datetime

from django.core.management import BaseCommand, CommandError
from django.utils import timezone

from tenants.capabilities import ALL_CAPABILITIES
from tenants.models import Organization
from tenants.selectors import membership_for, tenant_get
from tenants.services import Actor, ServiceError, api_key_issue


class Command(BaseCommand):
    help = "Issue an API key for a member of a tenant and print it (the only time it is shown)."

    def add_arguments(self, parser):
        parser.add_argument("--tenant", required=True, help="Tenant slug or id.")
        parser.add_argument("--user", required=True, help="Username of a member of that tenant.")
        parser.add_argument("--name", default="cli key", help="A name to tell the key apart (default: %(default)s).")
        parser.add_argument(
            "--scope",
            action="append",
            choices=sorted(ALL_CAPABILITIES),
            metavar="CAPABILITY",
            help="Limit the key to this capability; repeat for more. Without --scope the key is unrestricted: "
            "it gets whatever the member's role grants, now and after role changes. "
            f"One of: {', '.join(sorted(ALL_CAPABILITIES))}.",
        )
        parser.add_argument("--org", help="Slug of an organization to act in by default.")
        parser.add_argument("--expires-in-days", type=int, help="Expire the key after this many days.")

    def handle(self, *args, **options):
        tenant = tenant_get(slug_or_id=options["tenant"])
        if tenant is None:
            raise CommandError(f"No tenant {options['tenant']!r}.")
        membership = membership_for(tenant=tenant, username=options["user"])
        if membership is None:
            raise CommandError(f"{options['user']!r} is not a member of tenant {tenant.slug!r}.")
        org = None
        if options["org"]:
            org = Organization.objects.filter(tenant=tenant, slug=options["org"]).first()
            if org is None:
                raise CommandError(f"Tenant {tenant.slug!r} has no organization {options['org']!r}.")
        expires_at = None
        if options["expires_in_days"] is not None:
            if options["expires_in_days"] <= 0:
                raise CommandError("--expires-in-days must be 1 or more.")
            expires_at = timezone.now() + datetime.timedelta(days=options["expires_in_days"])
        try:
            key, raw = api_key_issue(
                membership=membership,
                name=options["name"],
                scopes=options["scope"],
                default_org=org,
                expires_at=expires_at,
                actor=Actor.system("cli"),
            )
        except ServiceError as exc:
            raise CommandError(exc.message) from exc
        self.stderr.write(f"Issued key {key.prefix} for {membership.user} in {tenant.slug}; copy it now, it is not shown again.")
        self.stdout.write(raw)
