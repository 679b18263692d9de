from oauthserver.admin import clients, grants  # noqa: F401
