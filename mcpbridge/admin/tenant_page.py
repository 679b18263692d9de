"""The tenant page as an operator uses it: status buttons, quota bars, usage charts, open sessions, latest audit.

The tenancy app's TenantAdmin knows nothing of the MCP bridge (its arrows point down), so the bridge extends
it here with what it alone can read (quota counters, sessions) and registers the extended admin in its place.
"""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from mcpbridge import tenant_usage
from mcpbridge.admin.charts import chart_response, storage_chart, tool_calls_chart
from tenants.admin.base import actor_for, run_service
from tenants.admin.tenants import TenantAdmin
from tenants.limits import Limit
from tenants.models import Tenant
from tenants.selectors import tenant_effective_limits, tenant_status_actions
from tenants.services import tenant_offboard, tenant_resume, tenant_suspend

STATUS_ACTIONS = {
    "suspend": (tenant_suspend, "Suspended {slug}: its keys, sessions and API calls are refused from now on."),
    "resume": (tenant_resume, "Resumed {slug}: its keys work again."),
    "offboard": (tenant_offboard, "Started offboarding {slug}: access has ended and its data is being purged."),
}
CHARTS = ("tool-calls", "storage")


class TenantOperationsAdmin(TenantAdmin):
    change_form_template = "admin/tenants/tenant/operations_change_form.html"

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<uuid:object_id>/status/<str:action>/", view(self.status_view), name="tenants_tenant_status"),
            path("<uuid:object_id>/charts/<str:chart>.svg", view(self.chart_view), name="tenants_tenant_chart"),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        tenant = self.get_object(request, object_id)
        if request.method == "GET":
            request._tenant_page_object = tenant  # the admin's own change view reads it again (see get_object)
        if tenant is not None and self.has_view_permission(request, tenant):
            extra_context = {**(extra_context or {}), **self._operations_context(request, tenant)}
        return super().change_view(request, object_id, form_url, extra_context)

    def _operations_context(self, request, tenant: Tenant) -> dict:
        can_change = self.has_change_permission(request, tenant)
        return {
            "status_actions": tenant_status_actions(tenant=tenant) if can_change else [],
            "quota_bars": tenant_usage.tenant_quota_bars(tenant=tenant),
            "open_sessions": tenant_usage.tenant_open_sessions(tenant=tenant),
            "latest_audit": tenant_usage.tenant_latest_audit(tenant=tenant),
            "chart_days": tenant_usage.CHART_DAYS,
            "chart_urls": {
                chart.replace("-", "_"): reverse("admin:tenants_tenant_chart", args=[tenant.pk, chart]) for chart in CHARTS
            },
        }

    def get_object(self, request, object_id, from_field=None):
        shown = getattr(request, "_tenant_page_object", None)
        if shown is not None and from_field is None and str(shown.pk) == str(object_id):
            return shown
        return super().get_object(request, object_id, from_field)

    def status_view(self, request, object_id, action):
        tenant = self._tenant_or_404(request, object_id)
        if action not in STATUS_ACTIONS:
            raise Http404("No such status change.")
        if not self.has_change_permission(request, tenant):
            raise PermissionDenied
        change_url = reverse("admin:tenants_tenant_change", args=[tenant.pk])
        if action == "offboard" and request.method == "GET":
            return self._confirm_offboard(request, tenant, change_url)
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if action == "offboard" and request.POST.get("confirm_slug") != tenant.slug:
            messages.error(request, f"Type the tenant's slug ({tenant.slug}) to confirm offboarding.")
            return self._confirm_offboard(request, tenant, change_url)
        service, done = STATUS_ACTIONS[action]
        run_service(request, lambda: service(tenant=tenant, actor=actor_for(request)), done.format(slug=tenant.slug))
        return HttpResponseRedirect(change_url)

    def _confirm_offboard(self, request, tenant: Tenant, change_url: str):
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"Offboard {tenant.slug}?",
            "tenant": tenant,
            "change_url": change_url,
        }
        return TemplateResponse(request, "admin/tenants/tenant/confirm_offboard.html", context)

    def chart_view(self, request, object_id, chart):
        tenant = self._tenant_or_404(request, object_id)
        days = tenant_usage.chart_days()
        if chart == "tool-calls":
            return chart_response(tool_calls_chart(days=days, series=tenant_usage.tenant_tool_calls_per_day(tenant=tenant)))
        if chart == "storage":
            maximum = next(e.value for e in tenant_effective_limits(tenant=tenant) if e.limit == Limit.STORAGE_BYTES)
            levels = tenant_usage.tenant_storage_per_day(tenant=tenant)
            return chart_response(storage_chart(days=days, levels=levels, maximum=maximum))
        raise Http404("No such chart.")

    def _tenant_or_404(self, request, object_id) -> Tenant:
        tenant = self.get_object(request, str(object_id))
        if tenant is None or not self.has_view_permission(request, tenant):
            raise Http404("No such tenant.")
        return tenant


admin.site.unregister(Tenant)
admin.site.register(Tenant, TenantOperationsAdmin)
