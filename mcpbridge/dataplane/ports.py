"""The four data-plane ports. Services call these; `aws` and `local` implement them the same way.

Every key a port receives is already namespaced by the services; ports never see a principal.
Backend failures surface as BackendError (the services turn it into a safe message).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Iterator, Protocol


class BackendError(Exception):
    """The backend could not do what was asked (unreachable, throttled, misconfigured)."""


class ConditionFailed(Exception):
    """A conditional write found the item in a different state than required."""


@dataclass(frozen=True)
class KVItem:
    key: str
    value: str
    size: int
    expires_at: datetime | None


@dataclass(frozen=True)
class KVEntry:
    key: str
    size: int
    expires_at: datetime | None


@dataclass(frozen=True)
class ArtifactMeta:
    key: str
    size: int
    content_type: str
    last_modified: datetime | None = None


@dataclass(frozen=True)
class Artifact:
    meta: ArtifactMeta
    body: bytes


@dataclass(frozen=True)
class BusEntry:
    event_id: str
    bus: str
    source: str
    detail_type: str
    detail_json: str


@dataclass(frozen=True)
class EntryResult:
    event_id: str
    error_code: str = ""
    error_message: str = ""

    @property
    def ok(self) -> bool:
        return not self.error_code


class KVStore(Protocol):
    def get(self, namespace: str, key: str) -> KVItem | None:
        """The live item, or None when absent or expired."""

    def put(self, namespace: str, key: str, value: str, size: int, expires_at: datetime | None, *, must_exist: bool | None) -> bool:
        """Write; return True when an item (live or expired) was replaced.
        must_exist True/False makes the write conditional (ConditionFailed otherwise)."""

    def delete(self, namespace: str, key: str) -> KVEntry | None:
        """Remove; return what was there (expired items included), or None."""

    def list(self, namespace: str, prefix: str, limit: int, after: str | None) -> tuple[list[KVEntry], bool]:
        """Live items whose key starts with prefix, in key order, after `after`; and whether more may follow."""

    def scan_tenant(self, tenant_prefix: str) -> Iterator[tuple[str, KVEntry]]:
        """Every (namespace, entry) under the tenant, expired ones included (purge and reconciliation)."""

    def delete_many(self, items: list[tuple[str, str]]) -> None:
        """Remove (namespace, key) pairs."""


class ArtifactStore(Protocol):
    def put(self, key: str, body: bytes, content_type: str) -> None: ...

    def get(self, key: str) -> Artifact | None: ...

    def head(self, key: str) -> ArtifactMeta | None: ...

    def delete(self, key: str) -> bool:
        """True when something was deleted."""

    def list(self, prefix: str, limit: int, after: str | None) -> tuple[list[ArtifactMeta], bool]: ...

    def iter_prefix(self, prefix: str) -> Iterator[ArtifactMeta]: ...

    def delete_many(self, keys: list[str]) -> None: ...

    def presign_put(self, key: str, content_type: str, size: int, expires_in: int) -> str: ...

    def presign_get(self, key: str, expires_in: int) -> str:
        """A URL that answers as a download (attachment, application/octet-stream; see dataplane/downloads.py),
        never as content a browser would render, whatever type the uploader declared."""


class EventBus(Protocol):
    def put_events(self, entries: list[BusEntry]) -> list[EntryResult]:
        """Send at most 10 entries in one call; one result per entry, in order.
        Raises BackendError when the bus cannot be reached at all."""


class SecretStore(Protocol):
    def get(self, name: str) -> tuple[str, str] | None:
        """(value, version id) or None."""

    def put(self, name: str, value: str) -> tuple[str, bool]:
        """Create or add a new version; return (version id, created)."""

    def exists(self, name: str) -> bool: ...

    def list_names(self, prefix: str) -> Iterator[str]: ...

    def delete(self, name: str) -> None:
        """Delete at once, without a recovery window."""


@dataclass(frozen=True)
class DataPlane:
    kv: KVStore
    artifacts: ArtifactStore
    events: EventBus
    secrets: SecretStore
