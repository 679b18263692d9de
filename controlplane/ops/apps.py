from django.apps import AppConfig


class OpsConfig(AppConfig):
    """Health, readiness, metrics, traces and logs: what an operator watches, for every process."""

    name = "controlplane.ops"
    label = "ops"
    verbose_name = "Operations"

    def ready(self):
        from controlplane.ops.tracing import configure_tracing

        configure_tracing()
