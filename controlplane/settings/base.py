from controlplane.settings.env import (
    BASE_DIR,
    VAR_DIR,
    as_text,
    as_url,
    persistent_secret,
    read_bool,
    read_choice,
    read_database_url,
    read_int,
    read_list,
    read_str,
    read_url,
)

SECRET_KEY = persistent_secret("DJANGO_SECRET_KEY", "secret_key")
DEBUG = read_bool("DJANGO_DEBUG", False)
ALLOWED_HOSTS = read_list(
    "DJANGO_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"],
    item=as_text(r"\*|\.?[A-Za-z0-9_.:\[\]-]+", "a host name (no scheme, port or path)"), example="cp.example.com,localhost",
)
CSRF_TRUSTED_ORIGINS = read_list(
    "DJANGO_CSRF_TRUSTED_ORIGINS", [], item=as_url(("http", "https")), example="https://cp.example.com"
)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "ninja",
    "controlplane.ops",
    "axes",
    "tenants",
    "mcpbridge",
    "oauthserver",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes requires: turns a locked-out login into its lockout page.
    "axes.middleware.AxesMiddleware",
]
# django-axes first: it refuses a locked-out login before any password is checked.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]

ROOT_URLCONF = "controlplane.urls"
WSGI_APPLICATION = "controlplane.wsgi.application"
ASGI_APPLICATION = "controlplane.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": read_database_url("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and a busy timeout let the MCP server, Celery and the admin share the file.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
    )
# Tests start real server subprocesses (runmcp, celery, uvicorn), so even on SQLite the test database is a file.
_default_test_db = str(VAR_DIR / "test_db.sqlite3") if DATABASES["default"]["ENGINE"].endswith("sqlite3") else None
_test_db_name = read_str("TEST_DATABASE_NAME", "", example="test_controlplane", min_length=0)
if _test_db_name or _default_test_db:
    DATABASES["default"]["TEST"] = {"NAME": _test_db_name or _default_test_db}
DATABASES["default"]["CONN_MAX_AGE"] = read_int("DATABASE_CONN_MAX_AGE", 0, example="60")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = read_url("REDIS_URL", "", schemes=("redis", "rediss", "unix"), needs_host=False,
                     example="redis://127.0.0.1:6379/0")
if REDIS_URL:
    # Timeouts: a stalled Redis must fail a cache read quickly (callers fall back), not hang the request.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_timeout": 2, "socket_connect_timeout": 2},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "controlplane"}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# Keyed digest for API keys: a separate secret so a database dump alone cannot be brute-forced.
API_KEY_HMAC_KEY = persistent_secret("API_KEY_HMAC_KEY", "api_key_hmac_key")
# Seconds between writes of an API key's last-used time (one write per call would dominate the hot path).
API_KEY_LAST_USED_RESOLUTION = read_int("API_KEY_LAST_USED_RESOLUTION", 60, example="60")
POLICY_CACHE_TIMEOUT = read_int("POLICY_CACHE_TIMEOUT", 300, example="300")
# Where every process on this machine learns of a policy change without a database read (tenants.policy.
# version_file): "auto" (beside the SQLite database; none with PostgreSQL, whose processes may span machines),
# "off", or an absolute path that every process (admin, APIs, runmcp) shares.
POLICY_VERSION_FILE = read_str(
    "POLICY_VERSION_FILE", "auto", pattern=r"auto|off|/.*[^/]", what='"auto", "off" or an absolute path',
    example="/srv/controlplane/var/policy-version",
)

# Logs go to stderr only (stdout is the MCP protocol channel under `runmcp`); LOG_FORMAT=json writes one JSON
# object a line with request id, tenant and tool.
LOG_FORMAT = read_choice("LOG_FORMAT", ("text", "json"), "text")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"call_context": {"()": "controlplane.ops.logging.CallContextFilter"}},
    "formatters": {
        "text": {"()": "controlplane.ops.logging.TextFormatter", "format": "%(levelname)s %(name)s: %(message)s"},
        "json": {"()": "controlplane.ops.logging.JsonLineFormatter"},
    },
    "handlers": {
        "stderr": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stderr",
            "filters": ["call_context"],
            "formatter": LOG_FORMAT,
        }
    },
    "root": {"handlers": ["stderr"], "level": read_choice("LOG_LEVEL", ("debug", "info", "warning", "error", "critical"), "info").upper()},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # One line per task run, and kombu's notice that eager mode has no broker host, are noise in this log.
        "celery.app.trace": {"level": "WARNING"},
        "kombu.connection": {"level": "ERROR"},
    },
}
