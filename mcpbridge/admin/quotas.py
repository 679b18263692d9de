from django.contrib import admin

from mcpbridge.models import QuotaUsage, TenantDataPlane


@admin.register(QuotaUsage)
class QuotaUsageAdmin(admin.ModelAdmin):
    list_display = ("tenant", "metric", "period", "used", "reconciled_at", "updated_at")
    list_filter = ("metric",)
    search_fields = ("tenant__slug",)
    list_select_related = ("tenant",)
    readonly_fields = ("tenant", "metric", "period", "used", "reconciled_at", "updated_at")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(TenantDataPlane)
class TenantDataPlaneAdmin(admin.ModelAdmin):
    list_display = ("tenant", "provisioned_at", "purge_started_at", "purge_finished_at", "purge_progress")
    search_fields = ("tenant__slug",)
    list_select_related = ("tenant",)
    readonly_fields = ("tenant", "provisioned_at", "provisioning", "purge_started_at", "purge_finished_at", "purge_progress")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
