"""One ASGI app: /mcp (and its RFC 9728 metadata) and the OAuth endpoints to the MCP server, everything else
(the consent page included) to Django.

Django's ASGI handler ignores lifespan, but the MCP app needs it (it starts the session manager), so
lifespan events go to the MCP app. Lifespan startup also makes this a serving process: database connections
kept for the MCP worker threads, and (without a broker) the event outbox drained in the background.
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "controlplane.settings")
django_application = get_asgi_application()

from django.conf import settings  # noqa: E402
from django.core.signals import request_finished  # noqa: E402

from controlplane.database import close_request_connections, keep_connections  # noqa: E402
from mcpbridge.services.outbox import outbox_start_embedded_drainer  # noqa: E402
from mcpbridge.transports.http import MCP_PATH, build_http_app  # noqa: E402  (needs Django set up)
from oauthserver.routes import STARLETTE_PATHS as OAUTH_PATHS  # noqa: E402

mcp_application = build_http_app(authorization_server=True)
_METADATA_PREFIX = "/.well-known/oauth-protected-resource"


def start_serving_process() -> None:
    # /mcp calls run in worker threads that live as long as the process: keep their connections
    # (health-checked), as `runmcp` does. Django's own requests each run in a thread of their own, so theirs
    # close with the request.
    keep_connections(settings.MCP_DB_CONN_MAX_AGE)
    request_finished.connect(close_request_connections, dispatch_uid="controlplane.close_request_connections")
    # No broker: this process drains the event outbox in the background; no request waits for a drain.
    outbox_start_embedded_drainer()


async def application(scope, receive, send):
    if scope["type"] == "lifespan":

        async def receive_lifespan():
            message = await receive()
            if message["type"] == "lifespan.startup":
                start_serving_process()
            return message

        return await mcp_application(scope, receive_lifespan, send)
    path = scope.get("path", "")
    if path == MCP_PATH or path.startswith(_METADATA_PREFIX) or path in OAUTH_PATHS:
        return await mcp_application(scope, receive, send)
    return await django_application(scope, receive, send)
