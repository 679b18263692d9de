"""From a raw API key to the principal a call runs as, in the context the caller chose with context_switch.

The chosen context is keyed on the API key (the principal), not on an MCP session id, so it holds for the
stateless 2026-07-28 protocol and across server processes when the cache is Redis. When that cache is
unreachable, calls that act in a context fail closed (-32003): running them in the key's default context
would read and write another space than the caller chose.
"""

from django.conf import settings
from django.core.cache import cache

from controlplane.outages import STORE_ERRORS, cache_outage
from mcpbridge.server.errors import Refusal, auth_failed, backend_failure, tenant_error
from oauthserver.policy import resolve_bearer
from tenants.policy import ContextNotAllowed, Principal, ResolutionError

_CONTEXT_KEY = "mcp:context:{}"
_PERSONAL = "personal"


def authenticate(raw_key: str | None, resolved: Principal | ResolutionError | None = None) -> Principal:
    """Resolve on every request (cached by policy version), so a revocation or suspension applies to the next call.

    `resolved` is what resolving this same key found earlier in the same request (the HTTP bearer check), so
    a request resolves its key once.
    """
    if not raw_key:
        raise auth_failed("missing_key", "No API key was given.")
    if isinstance(resolved, Principal):
        return resolved
    if isinstance(resolved, ResolutionError):
        raise _refusal(resolved)
    try:
        return resolve_bearer(raw_key)
    except ResolutionError as exc:
        raise _refusal(exc) from None


def _refusal(exc: ResolutionError) -> Refusal:
    refusal = tenant_error(exc.reason.value, exc.message) if exc.is_tenant_error else auth_failed(
        exc.reason.value, exc.message
    )
    refusal.tenant_id, refusal.key_prefix, refusal.unauthenticated = exc.tenant_id, exc.key_prefix, True
    return refusal


class ContextStore:
    """The context (personal or an org id) each API key last switched to."""

    def get(self, principal: Principal) -> str | None:
        """None: the key's default context; "personal"; or an org id."""
        return cache.get(_CONTEXT_KEY.format(principal.api_key_id))

    def set(self, principal: Principal, org_id: str | None) -> None:
        try:
            cache.set(_CONTEXT_KEY.format(principal.api_key_id), org_id or _PERSONAL, settings.MCP_SESSION_IDLE_SECONDS)
        except STORE_ERRORS as exc:
            cache_outage().failed(exc)
            raise context_unavailable() from None

    def apply(self, principal: Principal, *, strict: bool = True) -> Principal:
        """The principal in its chosen context. When the caller lost that org, strict callers get a tenant
        error (writing to another space than the caller believes would be worse); others fall back."""
        try:
            chosen = self.get(principal)
        except STORE_ERRORS as exc:
            cache_outage().failed(exc)
            if strict:
                raise context_unavailable() from None
            return principal
        if chosen is None:
            return principal
        try:
            return principal.in_context(None if chosen == _PERSONAL else chosen)
        except ContextNotAllowed:
            if not strict:
                try:
                    cache.delete(_CONTEXT_KEY.format(principal.api_key_id))
                except STORE_ERRORS as exc:
                    cache_outage().failed(exc)
                return principal
            raise context_lost() from None


def context_lost() -> Refusal:
    return tenant_error(
        "context_not_allowed",
        "You are no longer a member of the organization this key switched to; call context_switch to choose again.",
    )


def context_unavailable() -> Refusal:
    return backend_failure("The context this key works in cannot be read or changed right now; retry shortly.")
