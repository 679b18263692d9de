"""Data-plane ports and the adapter settings choose (DATAPLANE_BACKEND = local | aws).

No ORM inside the aws adapter, no boto3 outside it.
"""

import sys
import threading

from django.conf import settings
from django.core.signals import setting_changed

from mcpbridge.dataplane.ports import DataPlane

_lock = threading.Lock()
_current: DataPlane | None = None

_RELEVANT_SETTINGS = frozenset(
    {"DATAPLANE_BACKEND", "DATAPLANE_LOCAL_ROOT", "AWS_ENDPOINT_URL", "AWS_REGION", "AWS_DYNAMODB_TABLE",
     "AWS_S3_BUCKET", "AWS_EVENT_BUS_NAME", "AWS_CONTROL_PLANE_BUS_NAME", "AWS_SECRETS_PREFIX",
     "AWS_CONNECT_TIMEOUT", "AWS_READ_TIMEOUT", "AWS_MAX_ATTEMPTS", "DATAPLANE_LOCAL_EVENTS_DELAY"}
)


def data_plane() -> DataPlane:
    """The adapters for the configured backend, built once per process (one shared client per AWS service)."""
    global _current
    if _current is None:
        with _lock:
            if _current is None:
                _current = _build(settings.DATAPLANE_BACKEND)
    return _current


def _build(backend: str) -> DataPlane:
    if backend == "aws":
        from mcpbridge.dataplane.aws import build_aws_data_plane  # boto3 loads only when chosen

        return build_aws_data_plane()
    from mcpbridge.dataplane.local import build_local_data_plane

    return build_local_data_plane()


def reset_data_plane(**kwargs) -> None:
    global _current
    with _lock:
        _current = None
    clients = sys.modules.get("mcpbridge.dataplane.aws.clients")  # only when boto3 was ever loaded
    if clients is not None:
        clients.reset_clients()  # code that uses a client directly (aws_bootstrap) must not keep an old endpoint


def _on_setting_changed(*, setting, **kwargs):
    if setting in _RELEVANT_SETTINGS:
        reset_data_plane()


setting_changed.connect(_on_setting_changed, dispatch_uid="mcpbridge-dataplane-reset")
