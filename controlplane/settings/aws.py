from urllib.parse import urlsplit

from django.http.request import split_domain_port, validate_host

from controlplane.settings.base import ALLOWED_HOSTS
from controlplane.startup import SettingError
from controlplane.settings.env import VAR_DIR, origin_url, read_choice, read_float, read_int, read_str, read_url

# "local" keeps all tenant data in the database and under var/; "aws" uses boto3.
DATAPLANE_BACKEND = read_choice("DATAPLANE_BACKEND", ("local", "aws"), "local")
DATAPLANE_LOCAL_ROOT = read_str("DATAPLANE_LOCAL_ROOT", str(VAR_DIR / "artifacts"), example="/srv/controlplane/artifacts")

_REGION = r"[a-z]{2}(-[a-z]+)+-\d+"
AWS_REGION = read_str(
    "AWS_REGION", read_str("AWS_DEFAULT_REGION", "us-east-1", pattern=_REGION, what="an AWS region", example="eu-west-1"),
    pattern=_REGION, what="an AWS region", example="eu-west-1",
)
AWS_ENDPOINT_URL = read_url("AWS_ENDPOINT_URL", "", schemes=("http", "https"), example="http://127.0.0.1:5000") or None
AWS_CONNECT_TIMEOUT = read_float("AWS_CONNECT_TIMEOUT", 2.0, above=True, example="2")
AWS_READ_TIMEOUT = read_float("AWS_READ_TIMEOUT", 5.0, above=True, example="5")
AWS_MAX_ATTEMPTS = read_int("AWS_MAX_ATTEMPTS", 3, minimum=1, maximum=20, example="3")
# Names as AWS accepts them, so a typo is caught here and not on the first call.
AWS_DYNAMODB_TABLE = read_str("AWS_DYNAMODB_TABLE", "controlplane-kv", pattern=r"[A-Za-z0-9_.-]{3,255}",
                              what="a DynamoDB table name (3-255 of A-Z a-z 0-9 _ . -)", example="controlplane-kv")
AWS_S3_BUCKET = read_str("AWS_S3_BUCKET", "controlplane-artifacts", pattern=r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]",
                         what="an S3 bucket name (3-63 of a-z 0-9 . -)", example="controlplane-artifacts")
_BUS = r"[A-Za-z0-9/._-]{1,256}"
_BUS_WHAT = "an EventBridge bus name (A-Z a-z 0-9 / . _ -)"
AWS_EVENT_BUS_NAME = read_str("AWS_EVENT_BUS_NAME", "controlplane-tenants", pattern=_BUS, what=_BUS_WHAT,
                              example="controlplane-tenants")
AWS_CONTROL_PLANE_BUS_NAME = read_str("AWS_CONTROL_PLANE_BUS_NAME", "controlplane-lifecycle", pattern=_BUS,
                                      what=_BUS_WHAT, example="controlplane-lifecycle")
AWS_SECRETS_PREFIX = read_str("AWS_SECRETS_PREFIX", "controlplane/tenants", pattern=r"[A-Za-z0-9/_+=.@-]{1,256}",
                              what="a Secrets Manager name prefix (A-Z a-z 0-9 / _ + = . @ -)",
                              example="controlplane/tenants")

# Embedded adapters: where presigned-style artifact URLs point, and an optional per-call delay of the local bus.
DATAPLANE_LOCAL_PUBLIC_URL = read_url("DATAPLANE_LOCAL_PUBLIC_URL", "http://127.0.0.1:8000", schemes=("http", "https"),
                                      allow_empty=False, example="https://cp.example.com")
# Where the local adapter's download links point. A separate host (ideally its own registrable domain) keeps
# tenant files off the admin's origin entirely; empty: DATAPLANE_LOCAL_PUBLIC_URL. When set, downloads are
# refused on every other host.
DATAPLANE_DOWNLOAD_BASE_URL = origin_url("DATAPLANE_DOWNLOAD_BASE_URL", example="https://downloads.example-usercontent.com")
if DATAPLANE_DOWNLOAD_BASE_URL and not validate_host(
    split_domain_port(urlsplit(DATAPLANE_DOWNLOAD_BASE_URL).netloc)[0], ALLOWED_HOSTS
):
    raise SettingError(
        f"DATAPLANE_DOWNLOAD_BASE_URL: {DATAPLANE_DOWNLOAD_BASE_URL!r} is not in DJANGO_ALLOWED_HOSTS "
        "(example: add its host to DJANGO_ALLOWED_HOSTS too)"
    )
DATAPLANE_LOCAL_EVENTS_DELAY = read_float("DATAPLANE_LOCAL_EVENTS_DELAY", 0.0, example="0.05")
# Artifacts up to this size travel inline in tool calls; larger ones through presigned URLs.
ARTIFACT_INLINE_MAX_BYTES = read_int("ARTIFACT_INLINE_MAX_BYTES", 256 * 1024, minimum=1, example="262144")
# Presigned URLs live at most 7 days (SigV4's limit).
ARTIFACT_URL_EXPIRES_SECONDS = read_int("ARTIFACT_URL_EXPIRES_SECONDS", 900, minimum=1, maximum=7 * 24 * 3600,
                                        example="900")
# Event source of tenant events (lifecycle events use the SaaS Builder Toolkit's "sbt.control.plane").
EVENTS_TENANT_SOURCE = read_str("EVENTS_TENANT_SOURCE", "mcp.tenant", pattern=r"[A-Za-z0-9._-]{1,256}",
                                what="an event source (A-Z a-z 0-9 . _ -)", example="mcp.tenant")
# Outbox drain: entries the bus rejects this many times are parked; outages back off without parking.
EVENTS_OUTBOX_MAX_ATTEMPTS = read_int("EVENTS_OUTBOX_MAX_ATTEMPTS", 8, minimum=1, example="8")
EVENTS_OUTBOX_BACKOFF_BASE = read_float("EVENTS_OUTBOX_BACKOFF_BASE", 1.0, above=True, example="1")
EVENTS_OUTBOX_BACKOFF_MAX = read_float("EVENTS_OUTBOX_BACKOFF_MAX", 300.0, above=True, example="300")
EVENTS_OUTBOX_LEASE_SECONDS = read_float("EVENTS_OUTBOX_LEASE_SECONDS", 60.0, above=True, example="60")
# Without a broker, how often a serving process's drain loop looks for entries queued by other processes.
EVENTS_OUTBOX_POLL_SECONDS = read_float("EVENTS_OUTBOX_POLL_SECONDS", 5.0, above=True, example="5")
