from rest_framework.throttling import BaseThrottle

from tenants.api.caller import Caller
from tenants.api.ratelimit import rate_limit_hit


class RequestsPerMinuteThrottle(BaseThrottle):
    """Per key (the tenant's requests_per_minute) or per staff user (API_STAFF_REQUESTS_PER_MINUTE)."""

    def allow_request(self, request, view) -> bool:
        caller = Caller.of(request)
        self._wait = None
        if not caller.is_authenticated:
            return True
        self._wait = rate_limit_hit("api", caller.identity, caller.requests_per_minute)
        return self._wait is None

    def wait(self):
        return self._wait
