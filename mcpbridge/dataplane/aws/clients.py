"""One boto3 client per AWS service per process, with short timeouts and standard retries."""

import threading

import boto3
from botocore.config import Config
from django.conf import settings

_lock = threading.Lock()
_clients: dict[str, object] = {}


def _config(service: str) -> Config:
    options = {
        "connect_timeout": settings.AWS_CONNECT_TIMEOUT,
        "read_timeout": settings.AWS_READ_TIMEOUT,
        "retries": {"mode": "standard", "max_attempts": settings.AWS_MAX_ATTEMPTS},
        "max_pool_connections": 50,
    }
    if service == "s3":
        # Presigned URLs need SigV4; path-style addressing keeps them valid against emulators on an IP.
        options.update(signature_version="s3v4", s3={"addressing_style": "path" if settings.AWS_ENDPOINT_URL else "auto"})
    return Config(**options)


def client(service: str):
    """The shared client for `service` (boto3 clients are thread-safe; sessions are not)."""
    found = _clients.get(service)
    if found is None:
        with _lock:
            found = _clients.get(service)
            if found is None:
                session = boto3.session.Session()
                found = session.client(
                    service,
                    region_name=settings.AWS_REGION,
                    endpoint_url=settings.AWS_ENDPOINT_URL,
                    config=_config(service),
                )
                _clients[service] = found
    return found


def reset_clients() -> None:
    with _lock:
        _clients.clear()
