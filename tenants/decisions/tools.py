"""The MCP tools by name and the capability each needs (None: any valid key may call it).

Kept here, in the tenancy app, so the decision API does not depend on the MCP server; a test
checks it against the MCP bridge's registry."""

from tenants.capabilities import Capability

TOOL_CAPABILITIES: dict[str, str | None] = {
    "kv_get": Capability.KV_READ,
    "kv_list": Capability.KV_READ,
    "kv_set": Capability.KV_WRITE,
    "kv_delete": Capability.KV_WRITE,
    "artifacts_get": Capability.ARTIFACTS_GET,
    "artifacts_list": Capability.ARTIFACTS_LIST,
    "artifacts_put": Capability.ARTIFACTS_PUT,
    "artifacts_delete": Capability.ARTIFACTS_DELETE,
    "events_send": Capability.EVENTS_SEND,
    "secrets_get": Capability.SECRETS_READ,
    "secrets_put": Capability.SECRETS_WRITE,
    "whoami": None,
    "context_switch": None,
    "quota_status": None,
}
