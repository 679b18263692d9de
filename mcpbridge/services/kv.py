"""Key-value items in the caller's namespace (DynamoDB: partition key = namespace, sort key = key)."""

from datetime import datetime, timedelta, timezone as dt_timezone

from mcpbridge.dataplane import data_plane
from mcpbridge.dataplane.ports import ConditionFailed
from mcpbridge.services.certainty import release_after_write, stored_statement, stored_write
from mcpbridge.services.errors import InvalidInput, NotFound, QuotaExceeded
from mcpbridge.services.quotas import quota_release, quota_reserve
from mcpbridge.services.validation import (
    DYNAMODB_ITEM_MAX_BYTES,
    KV_KEY_MAX_BYTES,
    backend,
    decode_cursor,
    encode_cursor,
    list_limit,
    require,
    storage_key,
    ttl_seconds as validate_ttl,
    utf8_size,
)
from tenants.capabilities import Capability
from tenants.limits import Limit

# Attribute names and number encodings of a DynamoDB item besides the key and the value.
_ITEM_OVERHEAD_BYTES = 64
_STORE = "key-value store"


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _now() -> datetime:
    return datetime.now(dt_timezone.utc)


def kv_get(*, principal, key: str) -> dict:
    require(principal, Capability.KV_READ)
    key = storage_key(key, argument="key", max_bytes=KV_KEY_MAX_BYTES)
    with backend(_STORE):
        item = data_plane().kv.get(principal.namespace, key)
    if item is None:
        raise NotFound(f"No item with key {key!r} in this context.", key=key)
    return {"key": item.key, "value": item.value, "expires_at": _iso(item.expires_at)}


def kv_set_check(*, principal, key: str, value: str, ttl_seconds: int | None = None) -> tuple[str, int, int | None]:
    """Everything kv_set checks before it touches the store: (the validated key, the value's size, the TTL)."""
    require(principal, Capability.KV_WRITE)
    key = storage_key(key, argument="key", max_bytes=KV_KEY_MAX_BYTES)
    if not isinstance(value, str):
        raise InvalidInput("value must be a string (encode structured data as JSON).", argument="value")
    size = utf8_size(value, "value")
    maximum = principal.limits[Limit.MAX_KV_VALUE_BYTES]
    if size > maximum:
        raise QuotaExceeded(Limit.MAX_KV_VALUE_BYTES, size, maximum)
    item_size = size + len(principal.namespace) + len(key.encode()) + _ITEM_OVERHEAD_BYTES
    if item_size > DYNAMODB_ITEM_MAX_BYTES:
        raise InvalidInput(
            f"value is too large: the item would be {item_size} bytes, DynamoDB's limit is {DYNAMODB_ITEM_MAX_BYTES}.",
            argument="value",
        )
    return key, size, validate_ttl(ttl_seconds)


def kv_set(
    *,
    principal,
    key: str,
    value: str,
    ttl_seconds: int | None = None,
    checked: tuple[str, int, int | None] | None = None,
) -> dict:
    """`checked`: what kv_set_check returned for these same arguments earlier in this call (the pipeline's
    precheck), so the checks do not run twice; without it they run here."""
    key, size, ttl = checked or kv_set_check(principal=principal, key=key, value=value, ttl_seconds=ttl_seconds)
    # Whole seconds: DynamoDB's TTL attribute is an epoch number, and both adapters must agree.
    expires_at = (_now() + timedelta(seconds=ttl)).replace(microsecond=0) if ttl else None
    store = data_plane().kv

    def stored() -> bool:
        item = store.get(principal.namespace, key)
        return item is not None and item.value == value and item.expires_at == expires_at

    with backend(_STORE):
        try:
            # An existing item changes no quota: one statement, no transaction of its own.
            with stored_statement(store, stored):
                store.put(principal.namespace, key, value, size, expires_at, must_exist=True)
        except ConditionFailed:
            with stored_write(store, stored):
                # A new item: count it first, so concurrent writers can never pass the quota.
                quota_reserve(
                    tenant_id=principal.tenant_id,
                    limit=Limit.KV_ITEMS,
                    amount=1,
                    maximum=principal.limits[Limit.KV_ITEMS],
                )
                try:
                    replaced = store.put(principal.namespace, key, value, size, expires_at, must_exist=None)
                except BaseException:
                    quota_release(tenant_id=principal.tenant_id, limit=Limit.KV_ITEMS, amount=1)
                    raise
                if replaced:  # another writer created it meanwhile and already counted it
                    release_after_write(store, tenant_id=principal.tenant_id, limit=Limit.KV_ITEMS, amount=1)
    return {"key": key, "size": size, "expires_at": _iso(expires_at)}


def kv_delete(*, principal, key: str) -> dict:
    require(principal, Capability.KV_WRITE)
    key = storage_key(key, argument="key", max_bytes=KV_KEY_MAX_BYTES)
    store = data_plane().kv
    with backend(_STORE), stored_write(store, lambda: store.get(principal.namespace, key) is None):
        old = store.delete(principal.namespace, key)
        if old is not None:
            release_after_write(store, tenant_id=principal.tenant_id, limit=Limit.KV_ITEMS, amount=1)
    live = old is not None and (old.expires_at is None or old.expires_at > _now())
    return {"key": key, "deleted": live}


def kv_list(*, principal, prefix: str = "", limit: int = 50, cursor: str | None = None) -> dict:
    require(principal, Capability.KV_READ)
    prefix = storage_key(prefix, argument="prefix", max_bytes=KV_KEY_MAX_BYTES, allow_empty=True)
    limit = list_limit(limit)
    after = decode_cursor(cursor, prefix)
    with backend(_STORE):
        entries, more = data_plane().kv.list(principal.namespace, prefix, limit, after)
    return {
        "items": [{"key": e.key, "size": e.size, "expires_at": _iso(e.expires_at)} for e in entries],
        "next_cursor": encode_cursor(entries[-1].key) if more and entries else None,
    }
