"""From a raw API key to the principal a call runs as, in the context the caller chose with context_switch.

The chosen context is keyed on the API key (the principal), not on an MCP session id, so it holds for the
stateless 2026-07-28 protocol and across server processes when the cache is Redis. When that cache is
unreachable, calls that act in a context fail closed (-32003): running them in the key's default context
would read and write another space than the caller chose.

Without Redis the cache would be Django's in-process LocMemCache, which pickles every value and checks every
key's characters on each read, and every governed call reads the context. Then the contexts live in a plain
dict of this process instead, with the same expiry (MCP_SESSION_IDLE_SECONDS after the switch).
"""

import threading
import time

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


class ProcessContexts:
    """Contexts in this process's memory (no shared cache): api key id -> (context, monotonic deadline).

    Reads take no lock (one dict lookup); an expired entry reads as absent. Expired entries are swept when the
    dict has doubled since the last sweep, so keys that switched once and went away do not pile up."""

    def __init__(self):
        self._lock = threading.Lock()
        self._items: dict[str, tuple[str, float]] = {}
        self._sweep_at = 1024

    def get(self, key: str) -> str | None:
        item = self._items.get(key)
        if item is None or item[1] > time.monotonic():
            return None if item is None else item[0]
        with self._lock:
            if self._items.get(key) is item:  # not one set meanwhile
                del self._items[key]
        return None

    def set(self, key: str, value: str, seconds: float) -> None:
        now = time.monotonic()
        with self._lock:
            self._items[key] = (value, now + seconds)
            if len(self._items) >= self._sweep_at:
                self._items = {k: item for k, item in self._items.items() if item[1] > now}
                self._sweep_at = max(1024, 2 * len(self._items))

    def delete(self, key: str) -> None:
        with self._lock:
            self._items.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


_process_contexts = ProcessContexts()


def _store():
    """Where contexts live: the shared cache when there is one (Redis), else this process's dict."""
    return cache if settings.REDIS_URL else _process_contexts


class ContextStore:
    """The context (personal or an org id) each API key last switched to."""

    def get(self, principal: Principal) -> str | None:
        """None: the key's default context; "personal"; or an org id."""
        return _store().get(_CONTEXT_KEY.format(principal.api_key_id))

    def set(self, principal: Principal, org_id: str | None) -> None:
        try:
            _store().set(
                _CONTEXT_KEY.format(principal.api_key_id), org_id or _PERSONAL, settings.MCP_SESSION_IDLE_SECONDS
            )
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
                    _store().delete(_CONTEXT_KEY.format(principal.api_key_id))
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
