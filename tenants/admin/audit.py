from django.contrib import admin
from django.db.models import Q

from tenants.admin.base import ReadOnlyAdmin
from tenants.admin.paginators import EstimatedCountPaginator
from tenants.admin.search import IndexedSearchMixin, SearchOn, equals, tenant_slug
from tenants.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(IndexedSearchMixin, ReadOnlyAdmin):
    """Read-only: audit events are appended by the services and never changed or deleted."""

    list_display = ("created_at", "actor", "tenant", "action", "target", "outcome", "count", "latency_ms", "request_id")
    list_filter = ("action", "outcome", "created_at")
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

    def get_actions(self, request):
        return {}
