from controlplane.settings.env import env

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
API_STAFF_REQUESTS_PER_MINUTE = env.int("API_STAFF_REQUESTS_PER_MINUTE", default=1200)
# Where API rate-limit counters live (a `limits` storage URI); empty: REDIS_URL, else process memory.
API_RATE_LIMIT_STORAGE_URL = env.str("API_RATE_LIMIT_STORAGE_URL", default="")
# Shared secret the application plane (an EventBridge API destination) sends as a bearer token; empty: endpoint closed.
APP_PLANE_WEBHOOK_SECRET = env.str("APP_PLANE_WEBHOOK_SECRET", default="")
