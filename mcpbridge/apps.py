from django.apps import AppConfig


class McpBridgeConfig(AppConfig):
    name = "mcpbridge"
    verbose_name = "MCP bridge and data plane"

    def ready(self):
        from mcpbridge import receivers  # noqa: F401  (lifecycle events -> outbox, provisioning, purge)
        from mcpbridge import tasks  # noqa: F401  (registered before services queue them by name)
