"""A database lost before /mcp could answer (the bearer check runs before the MCP server sees the request)
becomes 503 with Retry-After and a JSON-RPC -32003 body, not a raw 500 with a traceback in the log."""

from starlette.responses import JSONResponse

from controlplane.database import DATABASE_UNAVAILABLE, RETRY_AFTER_SECONDS, UNAVAILABLE_MESSAGE, database_outage
from mcpbridge.server.errors import BACKEND_FAILURE


class DatabaseUnavailableMiddleware:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = False

        async def tracked_send(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracked_send)
        except DATABASE_UNAVAILABLE as exc:
            if started:
                raise
            database_outage.failed(exc)
            body = {"jsonrpc": "2.0", "id": None, "error": {"code": BACKEND_FAILURE, "message": UNAVAILABLE_MESSAGE}}
            response = JSONResponse(body, status_code=503, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})
            await response(scope, receive, send)
