from django.apps import AppConfig


class OAuthServerConfig(AppConfig):
    name = "oauthserver"
    label = "oauthserver"
    verbose_name = "OAuth for remote MCP clients"
    default_auto_field = "django.db.models.BigAutoField"
