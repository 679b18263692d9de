from django.contrib import admin

from tenants.admin.base import ReadOnlyAdmin, ServiceBackedAdmin, actor_for
from tenants.limits import LIMIT_NAMES
from tenants.models import LimitOverride, Plan
from tenants.services import plan_create, plan_update


@admin.register(Plan)
class PlanAdmin(ServiceBackedAdmin):
    list_display = ("slug", "name", "requests_per_minute", "storage_bytes", "kv_items", "events_per_month")
    search_fields = ("slug", "name")
    fieldsets = (
        (None, {"fields": ("slug", "name", "description")}),
        ("Limits", {"fields": LIMIT_NAMES}),
    )

    def get_readonly_fields(self, request, obj=None):
        return ("slug",) if obj else ()

    def service_create(self, request, obj, form):
        return plan_create(
            slug=obj.slug,
            name=obj.name,
            description=obj.description,
            limits={name: getattr(obj, name) for name in LIMIT_NAMES},
            actor=actor_for(request),
        )

    def service_update(self, request, obj, form):
        return plan_update(
            plan=obj,
            name=obj.name,
            description=obj.description,
            limits={name: getattr(obj, name) for name in LIMIT_NAMES},
            actor=actor_for(request),
        )

    def has_delete_permission(self, request, obj=None):
        return obj is None or not obj.tenants.exists()

    def service_delete(self, request, obj):
        obj.delete()


@admin.register(LimitOverride)
class LimitOverrideAdmin(ReadOnlyAdmin):
    """Read-only overview across tenants; overrides are edited on the tenant page."""

    list_display = ("tenant", "limit", "value", "updated_at")
    list_filter = ("limit",)
    search_fields = ("tenant__slug",)
    list_select_related = ("tenant",)
