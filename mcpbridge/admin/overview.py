"""The operator overview: one screen of what needs attention across every tenant (linked from the admin index)."""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse

from mcpbridge import overview
from mcpbridge.selectors import open_sessions_by_transport, outbox_backlog
from mcpbridge.models.sessions import SessionTransport
from tenants.models import Tenant


def overview_view(request):
    if not request.user.has_perm("tenants.view_tenant"):
        raise PermissionDenied
    sessions = open_sessions_by_transport()
    context = {
        **admin.site.each_context(request),
        "title": "Overview",
        "tenants_by_status": [
            (status, label, count)
            for (status, label), count in zip(
                Tenant.Status.choices, overview.tenants_by_status().values(), strict=True
            )
        ],
        "busiest": overview.busiest_tenants_today(),
        "near_limit": overview.tenants_near_limit(),
        "near_limit_percent": round(overview.NEAR_LIMIT_RATIO * 100),
        "refusals": overview.refusals_by_reason(),
        "outbox": outbox_backlog(),
        "sessions": [(label, sessions.get(value, 0)) for value, label in SessionTransport.choices],
        "sessions_total": sum(sessions.values()),
    }
    return TemplateResponse(request, "admin/overview.html", context)


admin_overview = admin.site.admin_view(overview_view)
