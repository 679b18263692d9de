from django.apps import AppConfig


class TenantsConfig(AppConfig):
    name = "tenants"
    verbose_name = "Tenancy and policy"

    def ready(self):
        from tenants import receivers  # noqa: F401  (policy cache invalidation)
