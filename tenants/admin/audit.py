from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.urls import path, reverse
from django.views.decorators.http import require_GET
from django.db.models import Q

from tenants.admin.audit_export import audit_csv_response
from tenants.admin.audit_filters import ActorFilter, SinceFilter, TenantFilter, UntilFilter
from tenants.admin.base import ReadOnlyAdmin
from tenants.admin.paginators import EstimatedCountPaginator
from tenants.audit_summaries import event_summary
from tenants.admin.search import IndexedSearchMixin, SearchOn, equals, tenant_slug
from tenants.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(IndexedSearchMixin, ReadOnlyAdmin):
    """Read-only: audit events are appended by the services and never changed or deleted."""

    list_display = ("created_at", "summary", "tenant", "actor", "outcome", "count")
    list_filter = (TenantFilter, ActorFilter, "action", "outcome", SinceFilter, UntilFilter, "created_at")
    search_on = (
        tenant_slug(),
        equals("actor", "actor (user:<name>, key:<prefix>)"),
        equals("target", "target"),
        SearchOn("tool name (kv_set)", lambda term: Q(target=f"tool:{term}")),
        equals("request_id", "request id"),
    )
    list_select_related = ("tenant",)
    # No date_hierarchy: it runs SELECT DISTINCT over the whole table on every view; the created_at filter is free.
    paginator = EstimatedCountPaginator
    list_per_page = 100
    change_list_template = "admin/tenants/auditevent/change_list.html"
    fields = (
        "created_at", "summary", "actor", "actor_user", "tenant", "action", "target", "outcome", "latency_ms",
        "request_id", "details",
    )
    readonly_fields = fields

    def get_actions(self, request):
        return {}

    @admin.display(description="What happened")
    def summary(self, obj):
        return event_summary(obj)

    def get_urls(self):
        export = self.admin_site.admin_view(require_GET(self.export_csv))
        return [path("export.csv", export, name="tenants_auditevent_export"), *super().get_urls()]

    def export_csv(self, request):
        """The events the list shows with the same filters and search, every page of them, as CSV."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        try:
            changelist = self.get_changelist_instance(request)
        except IncorrectLookupParameters:
            messages.error(request, "These filters cannot be exported: open the list, filter again, then export.")
            return HttpResponseRedirect(reverse("admin:tenants_auditevent_changelist"))
        return audit_csv_response(request, changelist.queryset)
