"""Read what a backend really holds, bypassing the services (to prove isolation and purges)."""

import boto3
from django.conf import settings

from mcpbridge.models import LocalArtifact, LocalKVItem, LocalSecret


def _client(service):
    return boto3.client(service, endpoint_url=settings.AWS_ENDPOINT_URL, region_name=settings.AWS_REGION)


def all_kv() -> list[tuple[str, str]]:
    if settings.DATAPLANE_BACKEND == "local":
        return list(LocalKVItem.objects.values_list("namespace", "key"))
    items = []
    for page in _client("dynamodb").get_paginator("scan").paginate(TableName=settings.AWS_DYNAMODB_TABLE):
        items += [(i["ns"]["S"], i["k"]["S"]) for i in page["Items"]]
    return items


def all_artifact_keys() -> list[str]:
    if settings.DATAPLANE_BACKEND == "local":
        return list(LocalArtifact.objects.values_list("key", flat=True))
    keys = []
    for page in _client("s3").get_paginator("list_objects_v2").paginate(Bucket=settings.AWS_S3_BUCKET):
        keys += [o["Key"] for o in page.get("Contents", [])]
    return keys


def all_secret_names() -> list[str]:
    if settings.DATAPLANE_BACKEND == "local":
        return list(LocalSecret.objects.values_list("name", flat=True))
    names = []
    for page in _client("secretsmanager").get_paginator("list_secrets").paginate():
        names += [s["Name"] for s in page["SecretList"]]
    return names
