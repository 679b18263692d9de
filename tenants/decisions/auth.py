"""Who may ask the decision API: an API key (bearer) or a staff session; both are rate limited."""

from django.conf import settings
from ninja.security import HttpBearer, SessionAuth

from tenants.api.authentication import MISSING_CREDENTIALS, record_auth_failure
from tenants.api.ratelimit import RETRY_AFTER_SECONDS, RateLimitUnavailable, rate_limit_hit
from tenants.decisions.errors import ApiError
from tenants.policy import ResolutionError, resolve_api_key
from tenants.services import RefusalDoor


def enforce_rate_limit(identity: str, per_minute: int) -> None:
    try:
        wait = rate_limit_hit("decide", identity, per_minute)
    except RateLimitUnavailable:
        raise ApiError(503, "limits_unavailable", "Rate limits cannot be checked right now; retry shortly.",
                       {"retry_after": RETRY_AFTER_SECONDS}, headers={"Retry-After": str(RETRY_AFTER_SECONDS)}) from None
    if wait is not None:
        raise ApiError(429, "rate_limited", f"Too many requests; retry in {wait} s.", {"retry_after": wait},
                       headers={"Retry-After": str(wait)})


class KeyAuth(HttpBearer):
    """The API key being asked about (or the tenant admin's key, for explain). request.auth is its Principal."""

    def __call__(self, request):
        principal = super().__call__(request)
        if principal is None and not _is_staff(request.user):
            # No bearer key (and no staff session to fall back on): refused, so audited.
            record_auth_failure(request, RefusalDoor.DECIDE, MISSING_CREDENTIALS)
        return principal

    def authenticate(self, request, token):
        try:
            principal = resolve_api_key(token)
        except ResolutionError as exc:
            record_auth_failure(request, RefusalDoor.DECIDE, exc.reason, exc)
            raise ApiError(403 if exc.is_tenant_error else 401, exc.reason.value, exc.message) from None
        enforce_rate_limit(f"key:{principal.api_key_id}", int(principal.limits["requests_per_minute"]))
        return principal


class StaffSessionAuth(SessionAuth):
    """A logged-in platform staff user (Django session; CSRF checked on unsafe methods)."""

    def authenticate(self, request, key):
        user = request.user
        if not _is_staff(user):
            return None
        enforce_rate_limit(f"user:{user.pk}", settings.API_STAFF_REQUESTS_PER_MINUTE)
        return user


def _is_staff(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active and user.is_staff)
