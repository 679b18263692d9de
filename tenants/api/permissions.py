from rest_framework.permissions import BasePermission

from tenants.api.caller import Caller


class CallerMayUse(BasePermission):
    """Staff may do everything; a tenant.manage key may use the endpoints not reserved for staff."""

    message = "This API needs platform staff, or an API key with the tenant.manage capability."

    def has_permission(self, request, view) -> bool:
        caller = Caller.of(request)
        if caller.is_staff:
            return True
        if not caller.can_manage_tenant:
            return False
        if view.action in getattr(view, "staff_only_actions", ()):
            self.message = "Only platform staff may do this."
            return False
        return True
