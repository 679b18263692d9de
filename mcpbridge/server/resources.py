"""Artifacts as MCP resources: resources/list pages through the caller's current context and resources/read
reads one artifact, served by the artifacts_list and artifacts_get tools through the enforcement pipeline
(so artifacts.list / artifacts.get gate them, and rate limits, capacity and audit apply as to the tools).

URIs are `artifact:///<name>`, the name percent-encoded, relative to the caller's current context (the same
space artifacts_get reads after context_switch).
"""

from urllib.parse import quote, unquote

import mcp_types as types

from mcpbridge.server.errors import INVALID_PARAMS, Refusal
from mcpbridge.server.pipeline import CallerInfo, Pipeline
from tenants.models.audit import AuditOutcome

SCHEME = "artifact:///"
PAGE_SIZE = 100
# A large artifact is not inlined: its contents are a download URL (RFC 2483 URI list).
URI_LIST = "text/uri-list"


def artifact_uri(name: str) -> str:
    return SCHEME + quote(name, safe="/")


def list_resources(pipeline: Pipeline, caller: CallerInfo, cursor: str | None) -> types.ListResourcesResult:
    """The artifacts of the caller's current context, a page at a time. Without artifacts.list: none."""
    try:
        page = pipeline.serve_resource(
            caller,
            "artifacts_list",
            {"limit": PAGE_SIZE, "cursor": cursor},
            target="resource:list",
            not_found=_not_listable,
        )
    except Refusal as refusal:
        if refusal.data.get("reason") == "not_listable":
            return types.ListResourcesResult(resources=[])
        raise
    return types.ListResourcesResult(
        resources=[
            types.Resource(uri=artifact_uri(item["name"]), name=item["name"], size=item["size"])
            for item in page["items"]
        ],
        next_cursor=page["next_cursor"],
    )


def read_resource(pipeline: Pipeline, caller: CallerInfo, uri: str) -> types.ReadResourceResult:
    """One artifact's contents. A missing artifact, another scheme and a caller without artifacts.get all
    get the same "Resource not found"."""

    def not_found() -> Refusal:
        return Refusal(INVALID_PARAMS, f"Resource not found: {uri}", AuditOutcome.DENIED, {"uri": uri})

    if not uri.startswith(SCHEME):
        raise not_found()
    artifact = pipeline.serve_resource(
        caller, "artifacts_get", {"name": unquote(uri[len(SCHEME):])}, target="resource:read", not_found=not_found
    )
    if "download_url" in artifact:
        meta = {key: artifact[key] for key in ("size", "content_type", "expires_at")}
        contents = types.TextResourceContents(uri=uri, mime_type=URI_LIST, text=artifact["download_url"], _meta=meta)
    elif "content" in artifact:
        contents = types.TextResourceContents(uri=uri, mime_type=artifact["content_type"], text=artifact["content"])
    else:
        contents = types.BlobResourceContents(
            uri=uri, mime_type=artifact["content_type"], blob=artifact["content_base64"]
        )
    return types.ReadResourceResult(contents=[contents])


def _not_listable() -> Refusal:
    # Only ever caught by list_resources: a caller that may not list artifacts sees an empty list.
    return Refusal(INVALID_PARAMS, "Resources are not listable here.", AuditOutcome.DENIED, {"reason": "not_listable"})
