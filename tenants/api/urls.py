from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from controlplane.csp import redoc_page_csp, swagger_page_csp
from mcpbridge.api.views import McpSessionViewSet
from tenants.api import schema  # noqa: F401  (registers the OpenAPI auth extensions)
from tenants.api.views.api_keys import ApiKeyViewSet
from tenants.api.views.application_plane import ApplicationPlaneEventView
from tenants.api.views.catalog import LimitOverrideViewSet, PlanViewSet, RoleViewSet
from tenants.api.views.members import MembershipViewSet, OrganizationViewSet, OrgMembershipViewSet
from tenants.api.views.records import AuditEventViewSet, UsageCounterViewSet
from tenants.api.views.tenants import TenantViewSet

router = DefaultRouter()
router.register("tenants", TenantViewSet, basename="tenant")
router.register("plans", PlanViewSet, basename="plan")
router.register("limit-overrides", LimitOverrideViewSet, basename="limit-override")
router.register("roles", RoleViewSet, basename="role")
router.register("organizations", OrganizationViewSet, basename="organization")
router.register("memberships", MembershipViewSet, basename="membership")
router.register("org-memberships", OrgMembershipViewSet, basename="org-membership")
router.register("api-keys", ApiKeyViewSet, basename="api-key")
router.register("mcp-sessions", McpSessionViewSet, basename="mcp-session")
router.register("audit-events", AuditEventViewSet, basename="audit-event")
router.register("usage", UsageCounterViewSet, basename="usage")

app_name = "api"
urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's start-up script as a file, so the page needs no inline script.
    path("docs/", swagger_page_csp(SpectacularSwaggerSplitView.as_view(url_name="api:schema")), name="docs"),
    path(
        "redoc/",
        redoc_page_csp(SpectacularRedocView.as_view(url_name="api:schema", template_name="api_docs/redoc.html")),
        name="redoc",
    ),
    path("application-plane/events/", ApplicationPlaneEventView.as_view(), name="application-plane-events"),
    path("", include(router.urls)),
]
