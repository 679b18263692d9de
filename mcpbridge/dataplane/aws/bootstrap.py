"""Create the AWS resources the data plane needs. Each step is idempotent."""

from botocore.exceptions import ClientError
from django.conf import settings

from mcpbridge.dataplane.aws.clients import client
from mcpbridge.dataplane.aws.errors import error_code, translated


def ensure_table() -> str:
    db = client("dynamodb")
    name = settings.AWS_DYNAMODB_TABLE
    try:
        db.create_table(
            TableName=name,
            AttributeDefinitions=[{"AttributeName": "ns", "AttributeType": "S"}, {"AttributeName": "k", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "ns", "KeyType": "HASH"}, {"AttributeName": "k", "KeyType": "RANGE"}],
            BillingMode="PAY_PER_REQUEST",
        )
        outcome = "created"
    except ClientError as exc:
        if error_code(exc) != "ResourceInUseException":
            raise
        outcome = "exists"
    db.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    ttl = db.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
    if ttl.get("TimeToLiveStatus") not in ("ENABLED", "ENABLING"):
        db.update_time_to_live(TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": "exp"})
    return f"DynamoDB table {name}: {outcome}"


def ensure_bucket() -> str:
    s3 = client("s3")
    name = settings.AWS_S3_BUCKET
    request = {"Bucket": name}
    if settings.AWS_REGION != "us-east-1":
        request["CreateBucketConfiguration"] = {"LocationConstraint": settings.AWS_REGION}
    try:
        s3.create_bucket(**request)
        outcome = "created"
    except ClientError as exc:
        if error_code(exc) not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
            raise
        outcome = "exists"
    s3.put_public_access_block(
        Bucket=name,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True
        },
    )
    return f"S3 bucket {name}: {outcome}"


def ensure_event_bus(name: str) -> str:
    try:
        client("events").create_event_bus(Name=name)
        return f"EventBridge bus {name}: created"
    except ClientError as exc:
        if error_code(exc) != "ResourceAlreadyExistsException":
            raise
        return f"EventBridge bus {name}: exists"


def bootstrap_all() -> list[str]:
    return [
        ensure_table(),
        ensure_bucket(),
        ensure_event_bus(settings.AWS_EVENT_BUS_NAME),
        ensure_event_bus(settings.AWS_CONTROL_PLANE_BUS_NAME),
    ]


_MISSING_CODES = {"ResourceNotFoundException", "NoSuchBucket", "404"}


def _absent(operation: str, probe) -> bool:
    with translated(operation, passthrough=tuple(_MISSING_CODES)):
        try:
            probe()
        except ClientError as exc:
            if error_code(exc) in _MISSING_CODES:
                return True
            raise
    return False


def missing_resources() -> list[str]:
    """The resources `bootstrap_all` would create that do not exist yet (BackendError if AWS cannot be asked)."""
    probes = [
        (f"DynamoDB table {settings.AWS_DYNAMODB_TABLE}", "DescribeTable",
         lambda: client("dynamodb").describe_table(TableName=settings.AWS_DYNAMODB_TABLE)),
        (f"S3 bucket {settings.AWS_S3_BUCKET}", "HeadBucket",
         lambda: client("s3").head_bucket(Bucket=settings.AWS_S3_BUCKET)),
        *[(f"EventBridge bus {bus}", "DescribeEventBus", lambda bus=bus: client("events").describe_event_bus(Name=bus))
          for bus in (settings.AWS_EVENT_BUS_NAME, settings.AWS_CONTROL_PLANE_BUS_NAME)],
    ]
    return [name for name, operation, probe in probes if _absent(operation, probe)]
