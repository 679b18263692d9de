"""Bearer tokens of the provisioning API: tenant API keys (the same keys and resolver the MCP bridge uses)
and platform service keys (cps_..., provisioning automation)."""

from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header

from tenants.api.caller import ApiKeyUser, ServiceKeyUser
from tenants.policy import ResolutionError, resolve_api_key
from tenants.policy.errors import ResolutionFailure
from tenants.policy.keys import is_service_key
from tenants.policy.service_keys import resolve_service_key
from tenants.services import AuthRefusal, RefusalDoor, audit_refusal

MISSING_CREDENTIALS = "missing_credentials"


def bearer_token(request) -> str | None:
    """The token of an `Authorization: Bearer <token>` header; None without one."""
    header = get_authorization_header(request).decode("latin-1").split()
    if not header or header[0].lower() != "bearer":
        return None
    if len(header) != 2:
        record_auth_failure(request, RefusalDoor.API, ResolutionFailure.MALFORMED)
        raise exceptions.AuthenticationFailed(
            "Send the API key as 'Authorization: Bearer <key>'.", code="malformed_key"
        )
    return header[1]


def record_auth_failure(request, door: str, reason: str, exc: ResolutionError | None = None) -> None:
    """Audit a refused credential, counted per key prefix (keys that exist) or client address per minute."""
    audit_refusal(
        AuthRefusal.now(
            door=door,
            reason=str(reason),
            address=request.META.get("REMOTE_ADDR", ""),
            key_prefix=exc.key_prefix if exc else None,
            tenant_id=exc.tenant_id if exc else None,
            target=request.path,
        )
    )


class ApiKeyAuthentication(BaseAuthentication):
    def authenticate(self, request):
        token = bearer_token(request)
        if token is None:
            return None
        try:
            principal = resolve_api_key(token)
        except ResolutionError as exc:
            record_auth_failure(request, RefusalDoor.API, exc.reason, exc)
            if exc.is_tenant_error:
                raise exceptions.PermissionDenied(exc.message, code=exc.reason.value) from None
            raise exceptions.AuthenticationFailed(exc.message, code=exc.reason.value) from None
        return ApiKeyUser(principal), principal

    def authenticate_header(self, request):
        return 'Bearer realm="api"'


class ServiceKeyAuthentication(BaseAuthentication):
    """Platform service keys. Runs before ApiKeyAuthentication and leaves every other token to it."""

    def authenticate(self, request):
        token = bearer_token(request)
        if not is_service_key(token):
            return None
        try:
            service = resolve_service_key(token)
        except ResolutionError as exc:
            record_auth_failure(request, RefusalDoor.API, exc.reason, exc)
            raise exceptions.AuthenticationFailed(exc.message, code=exc.reason.value) from None
        return ServiceKeyUser(service), service

    def authenticate_header(self, request):
        return 'Bearer realm="api"'
