from django.db import models


class ResolutionFailure(models.TextChoices):
    MALFORMED = "malformed_key", "The API key is not in the expected format."
    UNKNOWN = "unknown_key", "The API key is not known."
    REVOKED = "revoked_key", "The API key has been revoked."
    EXPIRED = "expired_key", "The API key has expired."
    USER_INACTIVE = "user_inactive", "The user of this API key is deactivated."
    SERVICE_KEY = (
        "service_key_not_accepted",
        "This is a platform service key: it works only with the provisioning API under /api/v1/. "
        "Use a tenant API key (cpk_...) here.",
    )
    TENANT_SUSPENDED = "tenant_suspended", "The tenant is suspended."
    TENANT_OFFBOARDING = "tenant_offboarding", "The tenant is being offboarded."
    TENANT_OFFBOARDED = "tenant_offboarded", "The tenant has been offboarded."


TENANT_FAILURES = frozenset(
    {ResolutionFailure.TENANT_SUSPENDED, ResolutionFailure.TENANT_OFFBOARDING, ResolutionFailure.TENANT_OFFBOARDED}
)


class ResolutionError(Exception):
    """A raw key did not resolve to a usable principal; reason says why."""

    def __init__(self, reason: ResolutionFailure, *, tenant_id: str | None = None, key_prefix: str | None = None):
        self.reason = ResolutionFailure(reason)
        self.tenant_id = tenant_id
        self.key_prefix = key_prefix
        super().__init__(self.reason.label)

    @property
    def message(self) -> str:
        return self.reason.label

    @property
    def is_tenant_error(self) -> bool:
        """Suspended or offboarded tenant: the caller is known, the tenant is not serving."""
        return self.reason in TENANT_FAILURES


class ContextNotAllowed(Exception):
    def __init__(self, org: str):
        self.org = org
        super().__init__(f"You are not a member of organization {org!r} in this tenant.")
