from django.contrib import admin

from tenants.admin.paginators import EstimatedCountPaginator
from tenants.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: audit events are appended by the services and never changed or deleted."""

    list_display = ("created_at", "actor", "tenant", "action", "target", "outcome", "latency_ms", "request_id")
    list_filter = ("action", "outcome", "created_at")
    search_fields = ("actor", "target", "request_id", "tenant__slug")
    list_select_related = ("tenant",)
    date_hierarchy = "created_at"
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    list_per_page = 100

    def get_actions(self, request):
        return {}

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
