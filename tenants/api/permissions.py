from rest_framework.permissions import BasePermission

from tenants.api.caller import Caller
from tenants.policy.service_keys import ServicePrincipal


class CallerMayUse(BasePermission):
    """Staff may do everything; a tenant.manage key may use the endpoints not reserved for staff; a platform
    service key may use exactly the actions its viewset maps to a platform capability it holds."""

    message = "This API needs platform staff, or an API key with the tenant.manage capability."

    def has_permission(self, request, view) -> bool:
        caller = Caller.of(request)
        if caller.service is not None:
            return self._service_key_may(caller.service, view)
        if caller.is_staff:
            return True
        if not caller.can_manage_tenant:
            return False
        if view.action in getattr(view, "staff_only_actions", ()):
            self.message = "Only platform staff or a platform service key (cps_...) may do this."
            return False
        return True

    def _service_key_may(self, service: ServicePrincipal, view) -> bool:
        needed = getattr(view, "platform_capabilities", {})
        if view.action == "metadata" and needed:
            return True
        if view.action not in needed:
            self.message = (
                "Platform service keys may use only the tenant, plan and limit-override endpoints; "
                "this one needs platform staff or a tenant API key."
            )
            return False
        capability = needed[view.action]
        if capability is not None and not service.can(capability):
            self.message = f"This service key lacks the {capability} capability; issue a key that has it."
            return False
        return True
