import os
import secrets

from django.contrib.auth import get_user_model
from django.core.management import BaseCommand, call_command
from django.db import transaction

from tenants.capabilities import BUILTIN_ROLES
from tenants.models import Membership, Plan, Role, Tenant
from tenants.services import Actor, api_key_issue, membership_add, org_membership_add, organization_create, tenant_create

DEMO_TENANT = "demo"
DEMO_ORG = "research"


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

    def handle(self, *args, **options):
        if not options["no_migrate"]:
            call_command("migrate", interactive=False, verbosity=0)
            self.stdout.write("Database migrated.")
        self._superuser()
        if not options["no_demo"]:
            self._demo()

    def _superuser(self):
        User = get_user_model()
        username = os.environ.get("DJANGO_SUPERUSER_USERNAME", "admin")
        password = os.environ.get("DJANGO_SUPERUSER_PASSWORD")
        email = os.environ.get("DJANGO_SUPERUSER_EMAIL", "admin@example.com")
        user = User.objects.filter(username=username).first()
        if user and not password:
            self.stdout.write(f"Superuser {username!r} exists; its password is unchanged.")
            return
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
        else:
            self.stdout.write("Password:  from DJANGO_SUPERUSER_PASSWORD")

    @transaction.atomic
    def _demo(self):
        if Tenant.objects.filter(slug=DEMO_TENANT).exists():
            self.stdout.write(
                f"Demo tenant {DEMO_TENANT!r} exists; its keys were shown when it was created. "
                "Issue a new one with: python manage.py issue_api_key --tenant demo --user demo-user"
            )
            return
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
