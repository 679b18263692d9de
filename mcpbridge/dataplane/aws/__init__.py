"""The boto3 adapters. No ORM here."""

from mcpbridge.dataplane.aws.artifacts import S3ArtifactStore
from mcpbridge.dataplane.aws.clients import reset_clients
from mcpbridge.dataplane.aws.events import EventBridgeBus
from mcpbridge.dataplane.aws.kv import DynamoKVStore
from mcpbridge.dataplane.aws.secrets import SecretsManagerStore
from mcpbridge.dataplane.ports import DataPlane


def build_aws_data_plane() -> DataPlane:
    reset_clients()  # settings may have changed since the last build
    return DataPlane(kv=DynamoKVStore(), artifacts=S3ArtifactStore(), events=EventBridgeBus(), secrets=SecretsManagerStore())
