"""Key format and digests, shared by tenant API keys (cpk_<8 hex>_<secret>), platform service keys
(cps_<8 hex>_<secret>) and OAuth access and refresh tokens (cpa_..., cpr_...). Only the visible prefix and
the keyed digest are stored; the mark keeps the kinds apart, so a key of one kind never resolves as another."""

import hashlib
import hmac
import re
import secrets

from django.conf import settings

KEY_PREFIX_MARK = "cpk_"
SERVICE_KEY_PREFIX_MARK = "cps_"
OAUTH_ACCESS_TOKEN_MARK = "cpa_"
OAUTH_REFRESH_TOKEN_MARK = "cpr_"
_RAW_KEYS = {
    mark: re.compile(rf"^{mark}([0-9a-f]{{8}})_([A-Za-z0-9_-]{{43}})$")
    for mark in (KEY_PREFIX_MARK, SERVICE_KEY_PREFIX_MARK, OAUTH_ACCESS_TOKEN_MARK, OAUTH_REFRESH_TOKEN_MARK)
}


def generate_raw_key(mark: str = KEY_PREFIX_MARK) -> tuple[str, str]:
    """Return (raw key, visible prefix)."""
    prefix = mark + secrets.token_hex(4)
    return f"{prefix}_{secrets.token_urlsafe(32)}", prefix


def parse_prefix(raw_key: str, mark: str = KEY_PREFIX_MARK) -> str | None:
    match = _RAW_KEYS[mark].match(raw_key or "")
    return mark + match.group(1) if match else None


def is_service_key(raw_key: str | None) -> bool:
    """Whether a token claims to be a platform service key (by its mark), valid or not."""
    return bool(raw_key) and raw_key.startswith(SERVICE_KEY_PREFIX_MARK)


def key_digest(raw_key: str) -> str:
    return hmac.new(settings.API_KEY_HMAC_KEY.encode(), raw_key.encode(), hashlib.sha256).hexdigest()


def digests_match(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())
