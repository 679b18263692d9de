"""Artifacts under the caller's namespace (S3 prefix = namespace). Small content inline, large through URLs."""

import base64
from datetime import datetime, timedelta, timezone as dt_timezone

from django.conf import settings

from mcpbridge.dataplane import data_plane
from mcpbridge.services.certainty import release_after_write, stored_write
from mcpbridge.services.errors import InvalidInput, NotFound, QuotaExceeded
from mcpbridge.services.namespaces import artifact_key
from mcpbridge.services.quotas import quota_release, quota_reserve
from mcpbridge.services.validation import (
    S3_KEY_MAX_BYTES,
    S3_SINGLE_PUT_MAX_BYTES,
    backend,
    base64_bytes,
    content_type as validate_content_type,
    decode_cursor,
    encode_cursor,
    list_limit,
    require,
    storage_key,
)
from tenants.capabilities import Capability
from tenants.limits import Limit

_STORE = "artifact store"
_TEXT_TYPES = ("text/", "application/json", "application/xml", "application/yaml", "application/x-ndjson")


def _name(principal, name, argument="name", allow_empty=False) -> str:
    # The S3 key is namespace + "/" + name and must stay within 1,024 bytes.
    room = S3_KEY_MAX_BYTES - len(principal.namespace.encode()) - 1
    return storage_key(name, argument=argument, max_bytes=room, allow_empty=allow_empty)


def _expires(seconds: int) -> str:
    return (datetime.now(dt_timezone.utc) + timedelta(seconds=seconds)).replace(microsecond=0).isoformat()


def _check_size(principal, size: int) -> None:
    maximum = principal.limits[Limit.MAX_ARTIFACT_BYTES]
    if size > maximum:
        raise QuotaExceeded(Limit.MAX_ARTIFACT_BYTES, size, maximum)
    if size > S3_SINGLE_PUT_MAX_BYTES:
        raise InvalidInput("size is above 5 GB, the largest single upload S3 accepts.", argument="size")


def _reserve_growth(principal, key: str, new_size: int) -> int:
    """Reserve storage for replacing `key` by `new_size` bytes; return the change in bytes."""
    store = data_plane().artifacts
    with backend(_STORE):
        old = store.head(key)
    delta = new_size - (old.size if old else 0)
    if delta > 0:
        quota_reserve(
            tenant_id=principal.tenant_id,
            limit=Limit.STORAGE_BYTES,
            amount=delta,
            maximum=principal.limits[Limit.STORAGE_BYTES],
        )
    return delta


def artifact_put_check(
    *,
    principal,
    name: str,
    content: str | None = None,
    content_base64: str | None = None,
    content_type: str = "application/octet-stream",
    size: int | None = None,
) -> tuple[str, str, bytes | None, int]:
    """Everything artifact_put checks before it touches the store: (name, content type, the inline body or None
    for an upload URL, size)."""
    require(principal, Capability.ARTIFACTS_PUT)
    name = _name(principal, name)
    content_type = validate_content_type(content_type)
    if content is not None and content_base64 is not None:
        raise InvalidInput("Give either content or content_base64, not both.", argument="content")
    if content is None and content_base64 is None:
        if isinstance(size, bool) or not isinstance(size, int) or size < 0:
            raise InvalidInput(
                "Give content, content_base64, or the size in bytes of what you will upload.", argument="size"
            )
        _check_size(principal, size)
        return name, content_type, None, size
    if content is not None:
        if not isinstance(content, str):
            raise InvalidInput("content must be a string; send bytes as content_base64.", argument="content")
        try:
            body = content.encode("utf-8")
        except UnicodeEncodeError:
            raise InvalidInput("content is not valid Unicode text.", argument="content") from None
    else:
        body = base64_bytes(content_base64, "content_base64")
    inline_max = settings.ARTIFACT_INLINE_MAX_BYTES
    _check_size(principal, len(body))
    if len(body) > inline_max:
        raise InvalidInput(
            f"Inline content is limited to {inline_max} bytes; call again with size and no content to get an upload URL.",
            argument="content",
        )
    return name, content_type, body, len(body)


def artifact_put(
    *,
    principal,
    name: str,
    content: str | None = None,
    content_base64: str | None = None,
    content_type: str = "application/octet-stream",
    size: int | None = None,
) -> dict:
    name, content_type, body, size = artifact_put_check(
        principal=principal, name=name, content=content, content_base64=content_base64, content_type=content_type,
        size=size,
    )
    if body is None:
        return _presigned_upload(principal, name, content_type, size)
    key = artifact_key(principal.namespace, name)
    store = data_plane().artifacts

    def stored() -> bool:
        found = store.get(key)
        # The file is replaced before its row is written: the row (size, type) shows whether the commit happened.
        return (
            found is not None
            and found.body == body
            and (found.meta.size, found.meta.content_type) == (len(body), content_type)
        )

    with stored_write(store, stored):
        delta = _reserve_growth(principal, key, len(body))
        try:
            with backend(_STORE):
                store.put(key, body, content_type)
        except BaseException:
            quota_release(tenant_id=principal.tenant_id, limit=Limit.STORAGE_BYTES, amount=delta)
            raise
        if delta < 0:
            release_after_write(store, tenant_id=principal.tenant_id, limit=Limit.STORAGE_BYTES, amount=-delta)
    return {"name": name, "size": len(body), "content_type": content_type, "stored": True}


def _presigned_upload(principal, name: str, content_type: str, size: int) -> dict:
    key = artifact_key(principal.namespace, name)
    # The declared size is counted now; reconciliation corrects it if the upload differs or never comes.
    delta = _reserve_growth(principal, key, size)
    expires_in = settings.ARTIFACT_URL_EXPIRES_SECONDS
    try:
        with backend(_STORE):
            url = data_plane().artifacts.presign_put(key, content_type, size, expires_in)
    except BaseException:
        quota_release(tenant_id=principal.tenant_id, limit=Limit.STORAGE_BYTES, amount=delta)
        raise
    return {
        "name": name,
        "size": size,
        "content_type": content_type,
        "stored": False,
        "upload_url": url,
        "upload_method": "PUT",
        "upload_headers": {"Content-Type": content_type},
        "expires_at": _expires(expires_in),
    }


def artifact_get(*, principal, name: str) -> dict:
    require(principal, Capability.ARTIFACTS_GET)
    name = _name(principal, name)
    key = artifact_key(principal.namespace, name)
    store = data_plane().artifacts
    inline_max = settings.ARTIFACT_INLINE_MAX_BYTES
    with backend(_STORE):
        meta = store.head(key)
        if meta is not None and meta.size > inline_max:
            url = store.presign_get(key, settings.ARTIFACT_URL_EXPIRES_SECONDS)
            return {
                "name": name,
                "size": meta.size,
                "content_type": meta.content_type,
                "download_url": url,
                "expires_at": _expires(settings.ARTIFACT_URL_EXPIRES_SECONDS),
            }
        artifact = store.get(key) if meta is not None else None
    if artifact is None:
        raise NotFound(f"No artifact named {name!r} in this context.", name=name)
    result = {"name": name, "size": artifact.meta.size, "content_type": artifact.meta.content_type}
    text = _as_text(artifact.body, artifact.meta.content_type)
    if text is not None:
        result["content"] = text
    else:
        result["content_base64"] = base64.b64encode(artifact.body).decode()
    return result


def _as_text(body: bytes, ctype: str) -> str | None:
    if not ctype.lower().startswith(_TEXT_TYPES):
        return None
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return None


def artifact_list(*, principal, prefix: str = "", limit: int = 50, cursor: str | None = None) -> dict:
    require(principal, Capability.ARTIFACTS_LIST)
    prefix = _name(principal, prefix, argument="prefix", allow_empty=True)
    limit = list_limit(limit)
    after = decode_cursor(cursor, prefix)
    base = artifact_key(principal.namespace, "")
    with backend(_STORE):
        metas, more = data_plane().artifacts.list(
            base + prefix, limit, base + after if after is not None else None
        )
    items = [
        {
            "name": m.key[len(base):],
            "size": m.size,
            "last_modified": m.last_modified.isoformat() if m.last_modified else None,
        }
        for m in metas
    ]
    return {"items": items, "next_cursor": encode_cursor(items[-1]["name"]) if more and items else None}


def artifact_delete(*, principal, name: str) -> dict:
    require(principal, Capability.ARTIFACTS_DELETE)
    name = _name(principal, name)
    key = artifact_key(principal.namespace, name)
    store = data_plane().artifacts
    with backend(_STORE), stored_write(store, lambda: store.head(key) is None):
        meta = store.head(key)
        if meta is not None:
            store.delete(key)
            release_after_write(store, tenant_id=principal.tenant_id, limit=Limit.STORAGE_BYTES, amount=meta.size)
    return {"name": name, "deleted": meta is not None}
