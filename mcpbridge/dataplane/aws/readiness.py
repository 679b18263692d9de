"""Is the AWS data plane usable right now? One cheap read per service the tools depend on."""

from django.conf import settings

from mcpbridge.dataplane.aws.clients import client


def probe() -> None:
    """Raises when the table or the bucket cannot be reached (missing, no permission, no network)."""
    client("dynamodb").describe_table(TableName=settings.AWS_DYNAMODB_TABLE)
    client("s3").head_bucket(Bucket=settings.AWS_S3_BUCKET)
