import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import BaseCommand, CommandError, call_command
from django.db import transaction

from controlplane.settings.superuser import superuser_from_env
from controlplane.startup import SettingError
from mcpbridge.dataplane.aws.bootstrap import missing_resources
from mcpbridge.dataplane.ports import BackendError
from tenants.capabilities import BUILTIN_ROLES
from tenants.models import Membership, Plan, Role, Tenant
from tenants.services import Actor, api_key_issue, membership_add, org_membership_add, organization_create, tenant_create

DEMO_TENANT = "demo"
DEMO_ORG = "research"
NEW_KEY_COMMAND = f"python manage.py issue_api_key --tenant {DEMO_TENANT} --user demo-user"


class Command(BaseCommand):
    help = (
        "Get a fresh checkout to a usable state: apply migrations, create a superuser and a demo tenant "
        "with an organization and one member per built-in role, and print their API keys (shown once). "
        "Safe to run again: existing objects are kept and no key is shown twice. The superuser comes from "
        "DJANGO_SUPERUSER_USERNAME / DJANGO_SUPERUSER_PASSWORD / DJANGO_SUPERUSER_EMAIL, else admin with a "
        "generated password that is printed."
    )

    def add_arguments(self, parser):
        parser.add_argument("--no-migrate", action="store_true", help="Skip applying migrations.")
        parser.add_argument("--no-demo", action="store_true", help="Create the superuser only, no demo tenant.")
        parser.add_argument("--url", help="Where the server will listen (e.g. http://127.0.0.1:8000): print where "
                                          "the admin and /mcp are and how to log in.")

    def handle(self, *args, **options):
        if not options["no_migrate"]:
            call_command("migrate", interactive=False, verbosity=0)
            self.stdout.write("Database migrated.")
        username, password_source = self._superuser()
        if settings.DATAPLANE_BACKEND == "aws":
            self._check_aws_data_plane()
        keys_shown = False if options["no_demo"] else self._demo()
        if options["url"]:
            self._where(options["url"].rstrip("/"), username, password_source, keys_shown)

    def _check_aws_data_plane(self):
        """Name what is missing instead of failing later: the tenant's data plane waits for `aws_bootstrap`."""
        try:
            missing = missing_resources()
        except BackendError as exc:
            self.stdout.write(self.style.WARNING(
                f"AWS data plane unreachable ({exc}): check AWS_ENDPOINT_URL and the credentials; tenant data planes "
                "stay pending until `python manage.py aws_bootstrap` succeeds."))
            return
        if missing:
            self.stdout.write(self.style.WARNING(
                f"AWS data plane not set up yet (missing {', '.join(missing)}): run `python manage.py aws_bootstrap` "
                "next; it creates them and provisions the data plane of tenants waiting for it (the demo tenant's)."))

    def _where(self, url: str, username: str, password_source: str, keys_shown: bool):
        login = {
            "printed": f"log in as {username} with the password printed above",
            "environment": f"log in as {username} with DJANGO_SUPERUSER_PASSWORD",
            "unchanged": f"log in as {username}; forgotten password: python manage.py changepassword {username}",
        }[password_source]
        key = "an API key printed above" if keys_shown else f"an API key; a new one: {NEW_KEY_COMMAND}"
        self.stdout.write("")
        self.stdout.write(f"Admin:  {url}/admin/   ({login})")
        self.stdout.write(f"MCP:    {url}/mcp      (Authorization: Bearer <{key}>)")
        self.stdout.write("")

    def _superuser(self) -> tuple[str, str]:
        """Returns the superuser's name and where its password is: printed, environment or unchanged."""
        User = get_user_model()
        try:
            username, password, email = superuser_from_env()
        except SettingError as exc:
            raise CommandError(str(exc)) from None
        user = User.objects.filter(username=username).first()
        if user and not password:
            self.stdout.write(f"Superuser {username!r} exists; its password is unchanged.")
            return username, "unchanged"
        shown = password is None
        password = password or secrets.token_urlsafe(12)
        if user is None:
            User.objects.create_superuser(username=username, email=email, password=password)
        else:
            user.set_password(password)
            user.save(update_fields=["password"])
        self.stdout.write(self.style.SUCCESS(f"Superuser: {username}"))
        if shown:
            self.stdout.write(self.style.SUCCESS(f"Password:  {password}   (shown once; set DJANGO_SUPERUSER_PASSWORD to choose one)"))
            return username, "printed"
        self.stdout.write("Password:  from DJANGO_SUPERUSER_PASSWORD")
        return username, "environment"

    @transaction.atomic
    def _demo(self) -> bool:
        """Create the demo tenant; True when its keys were printed (only on the run that created it)."""
        if Tenant.objects.filter(slug=DEMO_TENANT).exists():
            self.stdout.write(
                f"Demo tenant {DEMO_TENANT!r} exists; its keys were shown when it was created. "
                f"Issue a new one with: {NEW_KEY_COMMAND}"
            )
            return False
        actor = Actor.system("bootstrap")
        tenant = tenant_create(
            slug=DEMO_TENANT,
            name="Demo Corp",
            plan=Plan.objects.get(slug="standard"),
            registration_data={"email": "owner@demo.example", "source": "bootstrap"},
            actor=actor,
        )
        org = organization_create(tenant=tenant, slug=DEMO_ORG, name="Research", actor=actor)
        User = get_user_model()
        self.stdout.write(self.style.SUCCESS(f"Demo tenant {tenant.slug!r} with organization {org.slug!r}. API keys (shown once):"))
        for role_slug in BUILTIN_ROLES:
            user, _ = User.objects.get_or_create(
                username=f"demo-{role_slug}", defaults={"email": f"{role_slug}@demo.example"}
            )
            role = Role.objects.get(slug=role_slug)
            membership: Membership = membership_add(tenant=tenant, user=user, role=role, actor=actor)
            org_membership_add(organization=org, membership=membership, role=role, actor=actor)
            _, raw = api_key_issue(membership=membership, name="demo key", actor=actor)
            self.stdout.write(f"  {role_slug:<7} {user.username:<13} {raw}")
        return True
