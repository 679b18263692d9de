from controlplane.settings.env import VAR_DIR, choice, env

# "local" keeps all tenant data in the database and under var/; "aws" uses boto3.
DATAPLANE_BACKEND = choice("DATAPLANE_BACKEND", ("local", "aws"), "local")
DATAPLANE_LOCAL_ROOT = env.str("DATAPLANE_LOCAL_ROOT", default=str(VAR_DIR / "artifacts"))

AWS_REGION = env.str("AWS_REGION", default=env.str("AWS_DEFAULT_REGION", default="us-east-1"))
AWS_ENDPOINT_URL = env.str("AWS_ENDPOINT_URL", default="") or None
AWS_CONNECT_TIMEOUT = env.float("AWS_CONNECT_TIMEOUT", default=2.0)
AWS_READ_TIMEOUT = env.float("AWS_READ_TIMEOUT", default=5.0)
AWS_MAX_ATTEMPTS = env.int("AWS_MAX_ATTEMPTS", default=3)
AWS_DYNAMODB_TABLE = env.str("AWS_DYNAMODB_TABLE", default="controlplane-kv")
AWS_S3_BUCKET = env.str("AWS_S3_BUCKET", default="controlplane-artifacts")
AWS_EVENT_BUS_NAME = env.str("AWS_EVENT_BUS_NAME", default="controlplane-tenants")
AWS_CONTROL_PLANE_BUS_NAME = env.str("AWS_CONTROL_PLANE_BUS_NAME", default="controlplane-lifecycle")
AWS_SECRETS_PREFIX = env.str("AWS_SECRETS_PREFIX", default="controlplane/tenants")

# Embedded adapters: where presigned-style artifact URLs point, and an optional per-call delay of the local bus.
DATAPLANE_LOCAL_PUBLIC_URL = env.str("DATAPLANE_LOCAL_PUBLIC_URL", default="http://127.0.0.1:8000")
DATAPLANE_LOCAL_EVENTS_DELAY = env.float("DATAPLANE_LOCAL_EVENTS_DELAY", default=0.0)
# Artifacts up to this size travel inline in tool calls; larger ones through presigned URLs.
ARTIFACT_INLINE_MAX_BYTES = env.int("ARTIFACT_INLINE_MAX_BYTES", default=256 * 1024)
ARTIFACT_URL_EXPIRES_SECONDS = env.int("ARTIFACT_URL_EXPIRES_SECONDS", default=900)
# Event source of tenant events (lifecycle events use the SaaS Builder Toolkit's "sbt.control.plane").
EVENTS_TENANT_SOURCE = env.str("EVENTS_TENANT_SOURCE", default="mcp.tenant")
# Outbox drain: entries the bus rejects this many times are parked; outages back off without parking.
EVENTS_OUTBOX_MAX_ATTEMPTS = env.int("EVENTS_OUTBOX_MAX_ATTEMPTS", default=8)
EVENTS_OUTBOX_BACKOFF_BASE = env.float("EVENTS_OUTBOX_BACKOFF_BASE", default=1.0)
EVENTS_OUTBOX_BACKOFF_MAX = env.float("EVENTS_OUTBOX_BACKOFF_MAX", default=300.0)
EVENTS_OUTBOX_LEASE_SECONDS = env.float("EVENTS_OUTBOX_LEASE_SECONDS", default=60.0)
# Without a broker, how often a serving process's drain loop looks for entries queued by other processes.
EVENTS_OUTBOX_POLL_SECONDS = env.float("EVENTS_OUTBOX_POLL_SECONDS", default=5.0)
