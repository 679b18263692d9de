"""The one-time view of newly issued raw keys (POST-redirect-GET).

The POST that issues keys keeps them, encrypted, in the staff user's session under a random token and
redirects; the first GET of that token takes them out and renders them, so a reload finds nothing and
creates nothing. Encrypted with a key derived from SECRET_KEY, so the session table (the database) never
holds a raw key; entries nobody came to read are dropped after a few minutes."""

import base64
import hashlib
import json
import secrets
import time

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings

from tenants.models import ApiKey

SESSION_KEY = "tenants.issued_api_keys"
SHOWN_WITHIN_SECONDS = 600


def _fernet() -> Fernet:
    key = hashlib.sha256(b"tenants.admin.issued-keys:" + settings.SECRET_KEY.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def _fresh(pending: dict, now: float) -> dict:
    return {token: entry for token, entry in pending.items() if now - entry["at"] < SHOWN_WITHIN_SECONDS}


def issued_keys_stash(request, issued: list[tuple[ApiKey, str]]) -> str:
    """Keep `issued` (key, raw key) pairs for one display; returns the token of that display."""
    now = time.time()
    payload = json.dumps([[str(key.pk), raw] for key, raw in issued]).encode()
    token = secrets.token_urlsafe(16)
    pending = _fresh(request.session.get(SESSION_KEY, {}), now)
    pending[token] = {"at": now, "keys": _fernet().encrypt(payload).decode()}
    request.session[SESSION_KEY] = pending
    return token


def issued_keys_take(request, token: str) -> list[tuple[ApiKey, str]] | None:
    """The pairs stashed under `token`, removed from the session; None once shown, expired or unknown."""
    pending = request.session.get(SESSION_KEY, {})
    entry = pending.pop(token, None)
    request.session[SESSION_KEY] = _fresh(pending, time.time())
    if entry is None or time.time() - entry["at"] >= SHOWN_WITHIN_SECONDS:
        return None
    try:
        pairs = json.loads(_fernet().decrypt(entry["keys"].encode()))
    except InvalidToken:  # SECRET_KEY changed since the keys were issued: they cannot be shown any more
        return None
    found = ApiKey.objects.select_related("membership__user", "membership__tenant").in_bulk([pk for pk, _ in pairs])
    keys = {str(pk): key for pk, key in found.items()}
    return [(keys[pk], raw) for pk, raw in pairs if pk in keys]
