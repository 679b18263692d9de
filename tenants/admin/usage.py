from django.contrib import admin

from tenants.admin.paginators import EstimatedCountPaginator
from tenants.models import UsageCounter


@admin.register(UsageCounter)
class UsageCounterAdmin(admin.ModelAdmin):
    list_display = ("day", "tenant", "metric", "value")
    list_filter = ("metric", "day")
    search_fields = ("tenant__slug", "metric")
    list_select_related = ("tenant",)
    date_hierarchy = "day"
    show_full_result_count = False
    paginator = EstimatedCountPaginator

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
