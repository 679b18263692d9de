from django.apps import AppConfig


class TenantsConfig(AppConfig):
    name = "tenants"
    verbose_name = "Tenancy and policy"

    def ready(self):
        from django.db.models.signals import post_migrate

        from tenants import receivers  # noqa: F401  (policy cache invalidation)
        from tenants.seed import seed_after_migrate

        post_migrate.connect(seed_after_migrate, sender=self, dispatch_uid="tenants-seed")
