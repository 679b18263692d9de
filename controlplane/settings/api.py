from limits.storage import SCHEMES as LIMITS_STORAGE_SCHEMES

from controlplane.settings.env import read_int, read_str, read_url

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "tenants.api.authentication.ServiceKeyAuthentication",
        "tenants.api.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_THROTTLE_CLASSES": ["tenants.api.throttling.RequestsPerMinuteThrottle"],
    "EXCEPTION_HANDLER": "tenants.api.errors.api_exception_handler",
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "tenants.api.schema.ControlPlaneAutoSchema",
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "tenants.api.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 50,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Control plane provisioning API",
    "DESCRIPTION": "Tenants, plans, organizations, memberships, roles, API keys, MCP sessions, audit and usage.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI and Redoc assets served from this process, not a CDN (docs work on closed networks).
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {"CapabilityEnum": "tenants.capabilities.Capability"},
}

# Staff sessions are not tied to a tenant's plan; this is their requests-per-minute limit on both APIs.
API_STAFF_REQUESTS_PER_MINUTE = read_int("API_STAFF_REQUESTS_PER_MINUTE", 1200, minimum=1, example="1200")
# Where API rate-limit counters live (a `limits` storage URI); empty: REDIS_URL, else process memory.
API_RATE_LIMIT_STORAGE_URL = read_url(
    "API_RATE_LIMIT_STORAGE_URL", "", needs_host=False, example="redis://127.0.0.1:6379/3",
    schemes=tuple(scheme for scheme in LIMITS_STORAGE_SCHEMES if not scheme.startswith("async+")),
    what="a `limits` storage URI (memory://, redis://, rediss://, redis+sentinel://, memcached://, ...)",
)
# Shared secret the application plane (an EventBridge API destination) sends as a bearer token; empty: endpoint closed.
APP_PLANE_WEBHOOK_SECRET = read_str("APP_PLANE_WEBHOOK_SECRET", "", min_length=16, max_length=4096, secret=True,
                                    example="$(python -c 'import secrets; print(secrets.token_urlsafe(32))')")
