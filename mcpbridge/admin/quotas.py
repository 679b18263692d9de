from django.contrib import admin

from mcpbridge.models import QuotaUsage, TenantDataPlane
from tenants.admin.base import ReadOnlyAdmin


@admin.register(QuotaUsage)
class QuotaUsageAdmin(ReadOnlyAdmin):
    list_display = ("tenant", "metric", "period", "used", "updated_at")
    list_filter = ("metric",)
    search_fields = ("tenant__slug",)
    list_select_related = ("tenant",)
    readonly_fields = ("tenant", "metric", "period", "used", "reconciled_at", "updated_at")


@admin.register(TenantDataPlane)
class TenantDataPlaneAdmin(ReadOnlyAdmin):
    list_display = ("tenant", "provisioned_at", "purge_started_at", "purge_finished_at", "purge_progress")
    search_fields = ("tenant__slug",)
    list_select_related = ("tenant",)
    readonly_fields = ("tenant", "provisioned_at", "provisioning", "purge_started_at", "purge_finished_at", "purge_progress")
