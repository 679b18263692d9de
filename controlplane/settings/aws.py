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
