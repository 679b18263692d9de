from rest_framework import status
from rest_framework.exceptions import APIException
from rest_framework.throttling import BaseThrottle

from tenants.api.caller import Caller
from tenants.api.ratelimit import RETRY_AFTER_SECONDS, RateLimitUnavailable, rate_limit_hit


class LimitsUnavailable(APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_code = "limits_unavailable"
    default_detail = "Rate limits cannot be checked right now; retry shortly."
    wait = RETRY_AFTER_SECONDS  # DRF's handler turns this into Retry-After


class RequestsPerMinuteThrottle(BaseThrottle):
    """Per key (the tenant's requests_per_minute) or per staff user (API_STAFF_REQUESTS_PER_MINUTE)."""

    def allow_request(self, request, view) -> bool:
        caller = Caller.of(request)
        self._wait = None
        if not caller.is_authenticated:
            return True
        try:
            self._wait = rate_limit_hit("api", caller.identity, caller.requests_per_minute)
        except RateLimitUnavailable:
            raise LimitsUnavailable() from None
        return self._wait is None

    def wait(self):
        return self._wait
