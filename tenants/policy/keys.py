"""API key format and digests. Raw keys look like cpk_<8 hex>_<secret>; only prefix and digest are stored."""

import hashlib
import hmac
import re
import secrets

from django.conf import settings

KEY_PREFIX_MARK = "cpk_"
_RAW_KEY = re.compile(r"^cpk_([0-9a-f]{8})_([A-Za-z0-9_-]{43})$")


def generate_raw_key() -> tuple[str, str]:
    """Return (raw key, visible prefix)."""
    prefix = KEY_PREFIX_MARK + secrets.token_hex(4)
    return f"{prefix}_{secrets.token_urlsafe(32)}", prefix


def parse_prefix(raw_key: str) -> str | None:
    match = _RAW_KEY.match(raw_key or "")
    return KEY_PREFIX_MARK + match.group(1) if match else None


def key_digest(raw_key: str) -> str:
    return hmac.new(settings.API_KEY_HMAC_KEY.encode(), raw_key.encode(), hashlib.sha256).hexdigest()


def digests_match(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())
