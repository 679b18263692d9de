"""Who is calling the APIs: a platform staff user (session), an API key's principal, or a platform service key."""

from dataclasses import dataclass
from functools import cached_property

from django.conf import settings

from tenants.capabilities import Capability
from tenants.models.audit import AuditAction
from tenants.policy import Principal
from tenants.policy.service_keys import ServicePrincipal
from tenants.services import Actor


class ApiKeyUser:
    """request.user for key callers. Never staff: staff powers come only from a staff session."""

    is_authenticated = True
    is_anonymous = False
    is_staff = False
    is_superuser = False
    is_active = True

    def __init__(self, principal: Principal):
        self.principal = principal
        self.pk = self.id = principal.user_id
        self.username = principal.username

    def get_username(self) -> str:
        return self.username

    def __str__(self):
        return f"{self.username} via {self.principal.key_prefix}"


class ServiceKeyUser:
    """request.user for platform service keys: a machine, never staff and never a member of any tenant."""

    is_authenticated = True
    is_anonymous = False
    is_staff = False
    is_superuser = False
    is_active = True
    pk = id = None

    def __init__(self, service: ServicePrincipal):
        self.service = service
        self.username = service.actor_label

    def get_username(self) -> str:
        return self.username

    def __str__(self):
        return f"{self.username} via {self.service.key_prefix}"


@dataclass(frozen=True)
class Caller:
    user: object
    principal: Principal | None
    request_id: str = ""
    service: ServicePrincipal | None = None

    @classmethod
    def of(cls, request) -> "Caller":
        auth = getattr(request, "auth", None)
        principal = auth if isinstance(auth, Principal) else None
        service = auth if isinstance(auth, ServicePrincipal) else None
        request_id = request.headers.get("X-Request-ID", "")[:64]
        return cls(user=getattr(request, "user", None), principal=principal, request_id=request_id, service=service)

    @property
    def is_authenticated(self) -> bool:
        return bool(self.principal or self.service) or bool(getattr(self.user, "is_authenticated", False))

    @property
    def is_staff(self) -> bool:
        user = self.user
        return (
            self.principal is None
            and self.service is None
            and bool(user and user.is_authenticated and user.is_active and user.is_staff)
        )

    @property
    def tenant_id(self) -> str | None:
        return self.principal.tenant_id if self.principal else None

    @cached_property
    def can_manage_tenant(self) -> bool:
        # Judged in the personal context: an org a key defaults to must not widen or narrow tenant management.
        return bool(self.principal and Capability.TENANT_MANAGE in self.principal.personal_capabilities)

    @property
    def identity(self) -> str:
        """Stable id for rate limits and idempotency records."""
        if self.principal:
            return f"key:{self.principal.api_key_id}"
        if self.service:
            return f"service-key:{self.service.key_id}"
        return f"user:{self.user.pk}"

    @property
    def requests_per_minute(self) -> int:
        if self.principal:
            return int(self.principal.limits["requests_per_minute"])
        return settings.API_STAFF_REQUESTS_PER_MINUTE

    def actor(self) -> Actor:
        if self.principal:
            return Actor.for_principal(self.principal, channel=AuditAction.API_CALL, request_id=self.request_id)
        if self.service:
            return Actor(self.service.actor_label, None, AuditAction.API_CALL, self.request_id)
        return Actor.for_user(self.user, channel=AuditAction.API_CALL, request_id=self.request_id)
