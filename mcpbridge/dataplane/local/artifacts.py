import hashlib
import os
import tempfile
from pathlib import Path

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.urls import reverse

from mcpbridge.dataplane.local.keyorder import page_by_prefix
from mcpbridge.dataplane.ports import Artifact, ArtifactMeta
from mcpbridge.models import LocalArtifact

PRESIGN_SALT = "mcpbridge.local-artifact-url"


def _path(key: str) -> Path:
    # Files are named by the digest of the key, so no key can reach outside the root, whatever it contains.
    digest = hashlib.sha256(key.encode()).hexdigest()
    return Path(settings.DATAPLANE_LOCAL_ROOT) / digest[:2] / digest


def _meta(row: LocalArtifact) -> ArtifactMeta:
    return ArtifactMeta(row.key, row.size, row.content_type, row.updated_at)


def write_artifact(key: str, body: bytes, content_type: str) -> None:
    path = _path(key)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent)
    with os.fdopen(fd, "wb") as f:
        f.write(body)
    os.replace(tmp, path)
    LocalArtifact.objects.update_or_create(
        key=key,
        defaults={"size": len(body), "content_type": content_type, "sha256": hashlib.sha256(body).hexdigest()},
    )


class LocalArtifactStore:
    in_database = True  # its writes can share a transaction with their quota change

    def put(self, key, body, content_type):
        write_artifact(key, body, content_type)

    def head(self, key):
        row = LocalArtifact.objects.filter(key=key).first()
        return _meta(row) if row else None

    def get(self, key):
        row = LocalArtifact.objects.filter(key=key).first()
        if row is None:
            return None
        try:
            body = _path(key).read_bytes()
        except FileNotFoundError:
            return None
        return Artifact(_meta(row), body)

    def delete(self, key):
        with transaction.atomic():
            deleted, _ = LocalArtifact.objects.filter(key=key).delete()
            # The file goes once the row's removal commits (which may be the caller's transaction): a rolled-back
            # delete keeps its file; a commit whose answer was lost leaves an unreferenced file at worst.
            transaction.on_commit(lambda: _path(key).unlink(missing_ok=True))
        return bool(deleted)

    def list(self, prefix, limit, after):
        page = list(page_by_prefix(LocalArtifact.objects.all(), "key", prefix, after)[: limit + 1])
        return [_meta(r) for r in page[:limit]], len(page) > limit

    def iter_prefix(self, prefix):
        after = None
        while True:
            page, more = self.list(prefix, 500, after)
            yield from page
            if not more:
                return
            after = page[-1].key

    def delete_many(self, keys):
        for key in keys:
            self.delete(key)

    def presign_put(self, key, content_type, size, expires_in):
        claims = {"k": key, "m": "PUT", "ct": content_type, "n": size, "ttl": expires_in}
        return self._url(claims, settings.DATAPLANE_LOCAL_PUBLIC_URL)

    def presign_get(self, key, expires_in):
        base = settings.DATAPLANE_DOWNLOAD_BASE_URL or settings.DATAPLANE_LOCAL_PUBLIC_URL
        return self._url({"k": key, "m": "GET", "ttl": expires_in}, base)

    def _url(self, claims: dict, base: str) -> str:
        token = signing.dumps(claims, salt=PRESIGN_SALT, compress=True)
        return base.rstrip("/") + reverse("dataplane-local-artifact", args=[token])


def load_presigned(token: str, method: str) -> dict | None:
    """The claims of a valid, unexpired URL token for `method`, or None."""
    try:
        claims = signing.loads(token, salt=PRESIGN_SALT, max_age=7 * 24 * 3600)
    except signing.BadSignature:
        return None
    if claims.get("m") != method:
        return None
    try:
        signing.loads(token, salt=PRESIGN_SALT, max_age=int(claims["ttl"]))
    except signing.BadSignature:  # SignatureExpired included
        return None
    return claims
