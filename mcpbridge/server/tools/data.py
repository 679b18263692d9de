"""Tools over the data-plane services. Each declares its input, capability and AWS capacity; the services
themselves validate keys, derive storage paths from the principal's namespace and enforce quotas."""

import math

from pydantic import Field

from mcpbridge.server.registry import Capacity, Tool, ToolCall, ToolInput
from mcpbridge.services import artifacts, events, kv, quotas, secrets
from tenants.capabilities import Capability
from tenants.limits import Limit

_KB = 1024
READ_UNIT = Capacity(Limit.DYNAMODB_READ_UNITS_PER_SECOND)
S3_REQUEST = Capacity(Limit.S3_REQUESTS_PER_SECOND)
EVENT_ENTRY = Capacity(Limit.EVENTBRIDGE_ENTRIES_PER_SECOND)
EVENT_PER_MINUTE = Capacity(Limit.EVENTS_PER_MINUTE, seconds=60)
# DynamoDB bills a write unit per started KB and a read unit per started 4 KB.
WRITE_UNITS = Capacity(Limit.DYNAMODB_WRITE_UNITS_PER_SECOND, lambda args: math.ceil(len(args.value.encode()) / _KB))
DELETE_UNIT = Capacity(Limit.DYNAMODB_WRITE_UNITS_PER_SECOND)
LIST_UNITS = Capacity(Limit.DYNAMODB_READ_UNITS_PER_SECOND, lambda args: math.ceil(args.limit / 10))

Key = Field(min_length=1, max_length=1024, description="Item key inside your current context, e.g. notes/today.")
Name = Field(min_length=1, max_length=1024, description="Artifact name inside your current context, e.g. reports/q1.csv.")
Limit_ = Field(default=50, ge=1, le=1000, description="At most this many entries per page.")
Cursor = Field(default=None, max_length=2048, description="next_cursor of the previous page.")


class NoArguments(ToolInput):
    pass


class KvKey(ToolInput):
    key: str = Key


class KvSet(ToolInput):
    key: str = Key
    value: str = Field(description="The value to store (text; JSON is fine).")
    ttl_seconds: int | None = Field(default=None, ge=1, description="Delete the item after this many seconds.")


class KvList(ToolInput):
    prefix: str = Field(default="", max_length=1024, description="Only keys starting with this.")
    limit: int = Limit_
    cursor: str | None = Cursor


class ArtifactName(ToolInput):
    name: str = Name


class ArtifactPut(ToolInput):
    name: str = Name
    content: str | None = Field(default=None, description="Text content (small artifacts).")
    content_base64: str | None = Field(default=None, description="Binary content, base64 encoded (small artifacts).")
    content_type: str = Field(default="application/octet-stream", max_length=255)
    size: int | None = Field(
        default=None, ge=0, description="Without content: the size of a large upload; you get an upload URL."
    )


class ArtifactList(ToolInput):
    prefix: str = Field(default="", max_length=1024, description="Only names starting with this.")
    limit: int = Limit_
    cursor: str | None = Cursor


class EventSend(ToolInput):
    detail_type: str = Field(min_length=1, max_length=128, description="What happened, e.g. order.created.")
    detail: dict = Field(description="The event's JSON body.")


class SecretName(ToolInput):
    name: str = Field(min_length=1, max_length=256, description="Secret name inside your tenant.")


class SecretPut(ToolInput):
    name: str = Field(min_length=1, max_length=256, description="Secret name inside your tenant.")
    value: str = Field(min_length=1, description="The secret value. It is stored encrypted and never logged.")


def _args(call: ToolCall) -> dict:
    return {"principal": call.principal, **call.args.model_dump()}


TOOLS = (
    Tool(
        name="quota_status",
        description="How much of each quota your tenant has used (storage, items, secrets, events).",
        input_model=NoArguments,
        handler=lambda call: quotas.quota_status(principal=call.principal),
        read_only=True,
    ),
    Tool(
        name="kv_get",
        description="Read one key-value item.",
        input_model=KvKey,
        handler=lambda call: kv.kv_get(**_args(call)),
        capability=Capability.KV_READ,
        capacity=(READ_UNIT,),
        read_only=True,
    ),
    Tool(
        name="kv_set",
        description="Store a key-value item, optionally expiring after ttl_seconds.",
        input_model=KvSet,
        handler=lambda call: kv.kv_set(**_args(call), checked=call.checked),
        precheck=lambda call: kv.kv_set_check(**_args(call)),
        capability=Capability.KV_WRITE,
        capacity=(WRITE_UNITS,),
    ),
    Tool(
        name="kv_delete",
        description="Delete a key-value item.",
        input_model=KvKey,
        handler=lambda call: kv.kv_delete(**_args(call)),
        capability=Capability.KV_WRITE,
        capacity=(DELETE_UNIT,),
    ),
    Tool(
        name="kv_list",
        description="List key-value items by key prefix, a page at a time.",
        input_model=KvList,
        handler=lambda call: kv.kv_list(**_args(call)),
        capability=Capability.KV_READ,
        capacity=(LIST_UNITS,),
        read_only=True,
    ),
    Tool(
        name="artifacts_put",
        description="Store an artifact: inline text or base64 when small; give only size to get an upload URL.",
        input_model=ArtifactPut,
        handler=lambda call: artifacts.artifact_put(**_args(call)),
        precheck=lambda call: artifacts.artifact_put_check(**_args(call)),
        capability=Capability.ARTIFACTS_PUT,
        capacity=(S3_REQUEST,),
    ),
    Tool(
        name="artifacts_get",
        description="Read an artifact: inline when small, otherwise a download URL.",
        input_model=ArtifactName,
        handler=lambda call: artifacts.artifact_get(**_args(call)),
        capability=Capability.ARTIFACTS_GET,
        capacity=(S3_REQUEST,),
        read_only=True,
    ),
    Tool(
        name="artifacts_list",
        description="List artifacts by name prefix, a page at a time.",
        input_model=ArtifactList,
        handler=lambda call: artifacts.artifact_list(**_args(call)),
        capability=Capability.ARTIFACTS_LIST,
        capacity=(S3_REQUEST,),
        read_only=True,
    ),
    Tool(
        name="artifacts_delete",
        description="Delete an artifact.",
        input_model=ArtifactName,
        handler=lambda call: artifacts.artifact_delete(**_args(call)),
        capability=Capability.ARTIFACTS_DELETE,
        capacity=(S3_REQUEST,),
    ),
    Tool(
        name="events_send",
        description="Publish an event on your tenant's event bus; your tenant and context travel with it.",
        input_model=EventSend,
        handler=lambda call: events.event_send(**_args(call)),
        capability=Capability.EVENTS_SEND,
        capacity=(EVENT_ENTRY, EVENT_PER_MINUTE),
    ),
    Tool(
        name="secrets_get",
        description="Read a secret of your tenant.",
        input_model=SecretName,
        handler=lambda call: secrets.secret_get(**_args(call)),
        capability=Capability.SECRETS_READ,
        read_only=True,
    ),
    Tool(
        name="secrets_put",
        description="Create or update a secret of your tenant.",
        input_model=SecretPut,
        handler=lambda call: secrets.secret_put(**_args(call)),
        precheck=lambda call: secrets.secret_put_check(**_args(call)),
        capability=Capability.SECRETS_WRITE,
    ),
)
