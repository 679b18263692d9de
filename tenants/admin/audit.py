from django.contrib import admin

from tenants.admin.base import ReadOnlyAdmin
from tenants.admin.paginators import EstimatedCountPaginator
from tenants.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    """Read-only: audit events are appended by the services and never changed or deleted."""

    list_display = ("created_at", "actor", "tenant", "target", "outcome", "count")
    list_filter = ("action", "outcome", "created_at")
    search_fields = ("actor", "target", "request_id", "tenant__slug")
    list_select_related = ("tenant",)
    date_hierarchy = "created_at"
    paginator = EstimatedCountPaginator
    list_per_page = 100

    def get_actions(self, request):
        return {}
