from django.contrib import admin

from tenants.admin.base import ReadOnlyAdmin
from tenants.admin.paginators import EstimatedCountPaginator
from tenants.admin.search import IndexedSearchMixin, IndexedValuesFilter, equals, tenant_slug
from tenants.models import UsageCounter


class MetricFilter(IndexedValuesFilter):
    field_name = "metric"


@admin.register(UsageCounter)
class UsageCounterAdmin(IndexedSearchMixin, ReadOnlyAdmin):
    list_display = ("day", "tenant", "metric", "value")
    list_filter = (MetricFilter, "day")
    search_on = (tenant_slug(), equals("metric", "metric"))
    list_select_related = ("tenant",)
    paginator = EstimatedCountPaginator
