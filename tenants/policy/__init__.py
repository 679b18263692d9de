from tenants.policy.errors import ContextNotAllowed, ResolutionError, ResolutionFailure
from tenants.policy.explain import Decision, explain
from tenants.policy.principal import Context, OrgGrant, Principal
from tenants.policy.resolver import principal_of, refusal_of, resolve_api_key

__all__ = [
    "Context",
    "ContextNotAllowed",
    "Decision",
    "OrgGrant",
    "Principal",
    "ResolutionError",
    "ResolutionFailure",
    "explain",
    "principal_of",
    "refusal_of",
    "resolve_api_key",
]
