"""Secrets under the tenant's path, then the context (Secrets Manager name = prefix/namespace/name)."""

from mcpbridge.dataplane import data_plane
from mcpbridge.services.certainty import release_after_write, stored_write
from mcpbridge.services.errors import InvalidInput, NotFound
from mcpbridge.services.namespaces import secret_path
from mcpbridge.services.quotas import quota_release, quota_reserve
from mcpbridge.services.validation import (
    SECRET_NAME_MAX_CHARS,
    SECRET_VALUE_MAX_BYTES,
    backend,
    require,
    secret_name,
    utf8_size,
)
from tenants.capabilities import Capability
from tenants.limits import Limit

_STORE = "secret store"


def _name(principal, name) -> str:
    room = SECRET_NAME_MAX_CHARS - len(secret_path(principal.namespace))
    return secret_name(name, argument="name", max_chars=room)


def secret_get(*, principal, name: str) -> dict:
    require(principal, Capability.SECRETS_READ)
    name = _name(principal, name)
    with backend(_STORE):
        found = data_plane().secrets.get(secret_path(principal.namespace, name))
    if found is None:
        raise NotFound(f"No secret named {name!r} in this context.", name=name)
    value, version = found
    return {"name": name, "value": value, "version": version}


def secret_put_check(*, principal, name: str, value: str) -> str:
    """Everything secret_put checks before it touches the store; returns the validated name."""
    require(principal, Capability.SECRETS_WRITE)
    name = _name(principal, name)
    if not isinstance(value, str) or not value:
        raise InvalidInput("value must be a non-empty string.", argument="value")
    size = utf8_size(value, "value")
    if size > SECRET_VALUE_MAX_BYTES:
        raise InvalidInput(
            f"value is {size} bytes; Secrets Manager stores at most {SECRET_VALUE_MAX_BYTES}.", argument="value"
        )
    return name


def secret_put(*, principal, name: str, value: str) -> dict:
    name = secret_put_check(principal=principal, name=name, value=value)
    path = secret_path(principal.namespace, name)
    store = data_plane().secrets
    written = {}

    def stored() -> bool:
        found = store.get(path)
        return found is not None and found[1] == written.get("version")

    with backend(_STORE), stored_write(store, stored):
        if store.exists(path):
            written["version"], _ = store.put(path, value)
            return {"name": name, "version": written["version"]}
        quota_reserve(
            tenant_id=principal.tenant_id,
            limit=Limit.SECRETS_COUNT,
            amount=1,
            maximum=principal.limits[Limit.SECRETS_COUNT],
        )
        try:
            written["version"], created = store.put(path, value)
        except BaseException:
            quota_release(tenant_id=principal.tenant_id, limit=Limit.SECRETS_COUNT, amount=1)
            raise
        if not created:  # created concurrently by another writer, who counted it
            release_after_write(store, tenant_id=principal.tenant_id, limit=Limit.SECRETS_COUNT, amount=1)
    return {"name": name, "version": written["version"]}
