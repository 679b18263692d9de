import asyncio
import logging
import os
import sys

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from controlplane.database import keep_connections
from mcpbridge.services.outbox import outbox_start_embedded_drainer
from mcpbridge.transports.http import serve_http
from mcpbridge.transports.stdio import serve_stdio
from tenants.policy import ResolutionError, resolve_api_key
from tenants.services import AuthRefusal, RefusalDoor, audit_refusal


class Command(BaseCommand):
    help = (
        "Serve the MCP bridge. stdio (default): one client, the API key from --api-key or "
        f"${settings.MCP_API_KEY_ENV}. --transport http: Streamable HTTP at /mcp with bearer API keys."
    )

    def add_arguments(self, parser):
        parser.add_argument("--transport", choices=("stdio", "http"), default="stdio")
        parser.add_argument("--api-key", help=f"stdio only; defaults to ${settings.MCP_API_KEY_ENV}")
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8001, help="0 picks a free port (it is logged)")
        parser.add_argument("--public-url", help="Base URL clients use (defaults to MCP_PUBLIC_URL or host:port)")

    def handle(self, *args, **options):
        _log_to_stderr(options["verbosity"])
        if options["transport"] == "http":
            _become_serving_process()
            serve_http(
                host=options["host"],
                port=options["port"],
                public_url=options["public_url"] or os.environ.get("MCP_PUBLIC_URL"),
            )
            return
        raw_key = options["api_key"] or os.environ.get(settings.MCP_API_KEY_ENV, "")
        if not raw_key:
            _audit_refused("missing_credentials")
            raise CommandError(f"Give an API key with --api-key or the {settings.MCP_API_KEY_ENV} environment variable.")
        try:
            resolve_api_key(raw_key)
        except ResolutionError as exc:
            _audit_refused(exc.reason.value, exc)
            raise CommandError(f"This API key cannot be used: {exc.message}") from None
        _become_serving_process()
        asyncio.run(serve_stdio(raw_key))
        # Every request is answered and the session's end recorded: exit now. Interpreter teardown can take
        # seconds, and a stdio client (and the 5 s promise at stdin EOF) waits for the process to be gone.
        logging.shutdown()
        sys.stdout.flush()
        os._exit(0)


def _become_serving_process() -> None:
    """Only once this process is going to serve (a refused key changes nothing in the process that asked)."""
    # Calls run in worker threads; keep their connections instead of reconnecting on every call.
    keep_connections(settings.MCP_DB_CONN_MAX_AGE)
    # No broker: this process drains the event outbox in the background; no request waits for a drain.
    outbox_start_embedded_drainer()


def _audit_refused(reason: str, exc: ResolutionError | None = None) -> None:
    # A stdio server has no client address: its refusals are counted under the door alone (and the key's prefix).
    audit_refusal(
        AuthRefusal.now(
            door=RefusalDoor.MCP_STDIO,
            reason=reason,
            address="stdio",
            key_prefix=exc.key_prefix if exc else None,
            tenant_id=exc.tenant_id if exc else None,
            target="mcp:stdio start",
        )
    )


def _log_to_stderr(verbosity: int) -> None:
    # stdout carries the protocol over stdio: every log line goes to stderr.
    root = logging.getLogger()
    for handler in root.handlers:
        if getattr(handler, "stream", None) is sys.stdout:
            handler.setStream(sys.stderr)
    if verbosity > 1:
        root.setLevel(logging.DEBUG)
