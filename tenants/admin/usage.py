from django.contrib import admin

from tenants.admin.base import ReadOnlyAdmin
from tenants.admin.paginators import EstimatedCountPaginator
from tenants.models import UsageCounter


@admin.register(UsageCounter)
class UsageCounterAdmin(ReadOnlyAdmin):
    list_display = ("day", "tenant", "metric", "value")
    list_filter = ("metric", "day")
    search_fields = ("tenant__slug", "metric")
    list_select_related = ("tenant",)
    date_hierarchy = "day"
    paginator = EstimatedCountPaginator
