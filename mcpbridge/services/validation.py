"""Input checks of the data plane, against the real AWS limits (moto does not enforce several of them)."""

import base64
import binascii
import json
import logging
import re
import unicodedata
from contextlib import contextmanager

from mcpbridge.dataplane.ports import BackendError
from mcpbridge.services.errors import BackendUnavailable, CapabilityDenied, InvalidInput

logger = logging.getLogger(__name__)

KV_KEY_MAX_BYTES = 1024  # DynamoDB sort key
DYNAMODB_ITEM_MAX_BYTES = 400 * 1024
S3_KEY_MAX_BYTES = 1024
S3_SINGLE_PUT_MAX_BYTES = 5 * 1024**3
SECRET_NAME_MAX_CHARS = 512
SECRET_VALUE_MAX_BYTES = 65536
EVENT_ENTRY_MAX_BYTES = 256 * 1024
DETAIL_TYPE_MAX_CHARS = 128
LIST_LIMIT_MAX = 1000

_SECRET_NAME = re.compile(r"^[A-Za-z0-9/_+=.@-]+$")
_CONTENT_TYPE = re.compile(r"^[A-Za-z0-9!#$&^_.+-]+/[A-Za-z0-9!#$&^_.+-]+(\s*;\s*[A-Za-z0-9!#$&^_.+-]+=[^\x00-\x1f\x7f;]+)*$")


def require(principal, capability: str) -> None:
    if not principal.can(capability):
        raise CapabilityDenied(capability, str(principal.context))


def utf8_size(value: str, argument: str) -> int:
    try:
        return len(value.encode("utf-8"))
    except UnicodeEncodeError:
        raise InvalidInput(f"{argument} is not valid Unicode text (it contains lone surrogates).", argument=argument) from None


def _has_control(value: str) -> bool:
    return any(unicodedata.category(ch) == "Cc" for ch in value)


def storage_key(value, *, argument: str, max_bytes: int, allow_empty: bool = False) -> str:
    """A caller's key or name, checked so that, prefixed by a namespace, it cannot leave it."""
    if not isinstance(value, str):
        raise InvalidInput(f"{argument} must be a string.", argument=argument)
    if not value:
        if allow_empty:
            return value
        raise InvalidInput(f"{argument} must not be empty.", argument=argument)
    size = utf8_size(value, argument)
    if size > max_bytes:
        raise InvalidInput(f"{argument} is {size} bytes long in UTF-8; the limit is {max_bytes}.", argument=argument)
    if _has_control(value):
        raise InvalidInput(f"{argument} must not contain control characters.", argument=argument)
    if value.startswith("/"):
        raise InvalidInput(f"{argument} must not start with '/'.", argument=argument)
    if ".." in value:
        raise InvalidInput(f"{argument} must not contain '..'.", argument=argument)
    return value


def secret_name(value, *, argument: str, max_chars: int) -> str:
    name = storage_key(value, argument=argument, max_bytes=max_chars)
    if len(name) > max_chars:
        raise InvalidInput(f"{argument} is {len(name)} characters long; the limit is {max_chars}.", argument=argument)
    if not _SECRET_NAME.match(name):
        raise InvalidInput(
            f"{argument} may contain only letters, digits and the characters / _ + = . @ -.", argument=argument
        )
    return name


def list_limit(value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= LIST_LIMIT_MAX:
        raise InvalidInput(f"limit must be a whole number from 1 to {LIST_LIMIT_MAX}.", argument="limit")
    return value


def encode_cursor(after: str) -> str:
    return base64.urlsafe_b64encode(json.dumps({"after": after}).encode()).decode().rstrip("=")


def decode_cursor(cursor, prefix: str) -> str | None:
    """The key to continue after; a cursor is only valid with the prefix it was issued for."""
    if cursor is None or cursor == "":
        return None
    bad = InvalidInput("cursor is not one this listing returned; start again without a cursor.", argument="cursor")
    if not isinstance(cursor, str) or len(cursor) > 4096:
        raise bad
    try:
        after = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))["after"]
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise bad from None
    if not isinstance(after, str) or not after.startswith(prefix):
        raise bad
    return after


def ttl_seconds(value) -> int | None:
    if value is None:
        return None
    maximum = 5 * 365 * 24 * 3600
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= maximum:
        raise InvalidInput(f"ttl_seconds must be a whole number from 1 to {maximum} (five years).", argument="ttl_seconds")
    return value


def content_type(value) -> str:
    if not isinstance(value, str) or len(value) > 255 or not _CONTENT_TYPE.match(value):
        raise InvalidInput("content_type must be a media type such as text/plain or application/json.", argument="content_type")
    return value


def base64_bytes(value, argument: str) -> bytes:
    if not isinstance(value, str):
        raise InvalidInput(f"{argument} must be a base64 string.", argument=argument)
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput(f"{argument} is not valid base64.", argument=argument) from None


@contextmanager
def backend(what: str):
    """Turn a backend failure into a message safe to show; the cause goes to the log only."""
    try:
        yield
    except BackendError as exc:
        logger.warning("%s unavailable: %s", what, exc)
        raise BackendUnavailable(f"The {what} is unavailable right now; try again shortly.") from None
