"""Django's user and group admins, with every change also written to the audit log.

Tenancy models are audited by their services; users and groups are Django's own, so their admin
changes are audited here. Only field names are recorded, never values (passwords included).
"""

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group

from tenants.admin.base import actor_for
from tenants.services import audit_record


def _changed_fields(message) -> list[str]:
    fields = []
    for entry in message or []:
        if isinstance(entry, dict):
            for detail in entry.values():
                fields.extend(detail.get("fields", []) if isinstance(detail, dict) else [])
    return fields


class AuditedAuthAdminMixin:
    audit_kind = "user"

    def _audit(self, request, obj, operation: str, fields=None):
        details = {"operation": f"{self.audit_kind}.{operation}"}
        if fields:
            details["fields"] = fields
        audit_record(actor=actor_for(request), target=f"{self.audit_kind}:{obj}", details=details)

    def log_addition(self, request, obj, message):
        self._audit(request, obj, "create")
        return super().log_addition(request, obj, message)

    def log_change(self, request, obj, message):
        self._audit(request, obj, "change", _changed_fields(message))
        return super().log_change(request, obj, message)

    def log_deletions(self, request, queryset):
        for obj in queryset:
            self._audit(request, obj, "delete")
        return super().log_deletions(request, queryset)


User = get_user_model()
admin.site.unregister(User)
admin.site.unregister(Group)


@admin.register(User)
class AuditedUserAdmin(AuditedAuthAdminMixin, UserAdmin):
    audit_kind = "user"


@admin.register(Group)
class AuditedGroupAdmin(AuditedAuthAdminMixin, GroupAdmin):
    audit_kind = "group"
