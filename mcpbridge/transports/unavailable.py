"""A database lost before /mcp could answer (the bearer check runs before the MCP server sees the request)
becomes 503 with Retry-After and a JSON-RPC -32003 body, not a raw 500 with a traceback in the log. The gate
(gate.py) catches the error and answers with this response when nothing has been sent yet."""

from starlette.responses import JSONResponse

from controlplane.database import RETRY_AFTER_SECONDS, UNAVAILABLE_MESSAGE
from mcpbridge.server.errors import BACKEND_FAILURE


def unavailable_response() -> JSONResponse:
    body = {"jsonrpc": "2.0", "id": None, "error": {"code": BACKEND_FAILURE, "message": UNAVAILABLE_MESSAGE}}
    return JSONResponse(body, status_code=503, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})
