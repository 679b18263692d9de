"""The embedded adapters: the database and a directory under var/. No cloud account needed."""

from mcpbridge.dataplane.local.artifacts import LocalArtifactStore
from mcpbridge.dataplane.local.events import LocalEventBus
from mcpbridge.dataplane.local.kv import LocalKVStore
from mcpbridge.dataplane.local.secrets import LocalSecretStore
from mcpbridge.dataplane.ports import DataPlane


def build_local_data_plane() -> DataPlane:
    return DataPlane(kv=LocalKVStore(), artifacts=LocalArtifactStore(), events=LocalEventBus(), secrets=LocalSecretStore())
