from django.contrib import admin
from django.urls import include, path

from controlplane.api import api as decision_api
from controlplane.ops.views import healthz, metrics, readyz
from mcpbridge.admin.overview import admin_overview

urlpatterns = [
    path("admin/overview/", admin_overview, name="admin-overview"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("tenants.api.urls")),
    path("api/decide/", decision_api.urls),
    path("dataplane/", include("mcpbridge.urls")),
    path("oauth/", include("oauthserver.urls")),
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("metrics", metrics, name="metrics"),
]
