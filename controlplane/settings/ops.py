from controlplane.settings.env import Invalid, as_directory, read, read_str, read_url


def _optional_token(raw: str) -> str:
    value = raw.strip()
    if value and len(value) < 16:
        raise Invalid("is too short: use at least 16 characters (or leave it empty)")
    return value


# Bearer token a Prometheus scrape of /metrics must send; empty = only scrapes from a loopback address.
METRICS_BEARER_TOKEN = read("METRICS_BEARER_TOKEN", _optional_token, "", example="a random 32-character token", secret=True)
# Read by the OpenTelemetry SDK itself (controlplane/ops/tracing.py); checked here so a typo stops start-up.
OTEL_EXPORTER_OTLP_ENDPOINT = read_url(
    "OTEL_EXPORTER_OTLP_ENDPOINT", "", schemes=("http", "https"), example="http://otel-collector:4318"
)
OTEL_SERVICE_NAME = read_str(
    "OTEL_SERVICE_NAME", "controlplane", pattern=r"[A-Za-z0-9_.-]{1,128}", what="a service name", example="controlplane"
)
# prometheus-client's multiprocess mode: a directory every server process writes its counters into.
PROMETHEUS_MULTIPROC_DIR = read("PROMETHEUS_MULTIPROC_DIR", as_directory, "", example="/run/controlplane-metrics")
