"""One ASGI app: /mcp (and its RFC 9728 metadata) and the OAuth endpoints to the MCP server, everything else
(the consent page included) to Django.

Django's ASGI handler ignores lifespan, but the MCP app needs it (it starts the session manager), so
lifespan events go to the MCP app.
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "controlplane.settings")
django_application = get_asgi_application()

from mcpbridge.transports.http import MCP_PATH, build_http_app  # noqa: E402  (needs Django set up)
from oauthserver.routes import STARLETTE_PATHS as OAUTH_PATHS  # noqa: E402

mcp_application = build_http_app(authorization_server=True)
_METADATA_PREFIX = "/.well-known/oauth-protected-resource"


async def application(scope, receive, send):
    if scope["type"] == "lifespan":
        return await mcp_application(scope, receive, send)
    path = scope.get("path", "")
    if path == MCP_PATH or path.startswith(_METADATA_PREFIX) or path in OAUTH_PATHS:
        return await mcp_application(scope, receive, send)
    return await django_application(scope, receive, send)
