"""The configured backend's readiness probe (boto3 loads only when the aws backend is chosen)."""

from django.conf import settings

from mcpbridge.dataplane import data_plane


def probe_data_plane() -> None:
    data_plane()  # builds the adapters (and their clients) for the current settings
    if settings.DATAPLANE_BACKEND == "aws":
        from mcpbridge.dataplane.aws.readiness import probe
    else:
        from mcpbridge.dataplane.local.readiness import probe
    probe()
