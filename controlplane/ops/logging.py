"""Log records carry the request id, tenant and tool of the governed call they were written in, and are
formatted as one JSON object a line when LOG_FORMAT=json.

The values live in context variables: the pipeline sets them for the duration of a call (in the worker
thread that runs it), and `CallContextFilter` copies them onto every record written meanwhile.
"""

import contextvars
import logging

from pythonjsonlogger.json import JsonFormatter

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")
tenant_var: contextvars.ContextVar[str] = contextvars.ContextVar("tenant", default="")
tool_var: contextvars.ContextVar[str] = contextvars.ContextVar("tool", default="")


class call_context:  # noqa: N801 - used as a context manager, like the function it replaced
    """The request id, tenant and tool of the governed call running in this thread, for the block's log records.

    A plain class rather than a generator-based context manager: every governed call enters one."""

    __slots__ = ("_values", "_tokens")

    def __init__(self, *, request_id: str = "", tenant: str = "", tool: str = ""):
        self._values = (request_id, tenant, tool)

    def __enter__(self) -> None:
        request_id, tenant, tool = self._values
        self._tokens = (request_id_var.set(request_id), tenant_var.set(tenant), tool_var.set(tool))

    def __exit__(self, *exc_info) -> None:
        request_token, tenant_token, tool_token = self._tokens
        request_id_var.reset(request_token)
        tenant_var.reset(tenant_token)
        tool_var.reset(tool_token)


def set_tenant(tenant: str) -> None:
    """The tenant becomes known only once the caller is authenticated, part-way through a call."""
    tenant_var.set(tenant)


class CallContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        record.tenant = tenant_var.get()
        record.tool = tool_var.get()
        return True


class JsonLineFormatter(JsonFormatter):
    def __init__(self):
        super().__init__(
            "%(levelname)s %(name)s %(message)s %(request_id)s %(tenant)s %(tool)s",
            rename_fields={"levelname": "level", "name": "logger"},
            timestamp="time",
        )


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        context = " ".join(
            f"{key}={value}" for key in ("request_id", "tenant", "tool") if (value := getattr(record, key, ""))
        )
        return f"{line} [{context}]" if context else line
