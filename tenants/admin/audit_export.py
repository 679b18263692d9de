"""The audit list as CSV, streamed: rows are read in chunks and written as they come, so a million rows cost
the memory of one chunk. Under ASGI the response needs an async iterator (Django would otherwise collect a
synchronous one into a list before sending the first byte); it pulls the same lines a chunk at a time from a
worker thread, the one thread that holds the database cursor."""

import csv
from collections.abc import AsyncIterator, Iterator
from itertools import islice

from asgiref.sync import sync_to_async

from django.core.handlers.asgi import ASGIRequest
from django.http import StreamingHttpResponse
from django.utils import timezone

from tenants.audit_summaries import audit_summary

CHUNK_ROWS = 2000
HEADER = ("time", "tenant", "actor", "action", "outcome", "summary", "target", "latency_ms", "request_id")
_FIELDS = ("created_at", "tenant__slug", "actor", "action", "outcome", "target", "latency_ms", "request_id", "details")
# Spreadsheets run cells starting with these as formulas; targets and actors can carry tenant-chosen text.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class _Line:
    """csv.writer needs a file; this one hands back what it was given."""

    def write(self, value: str) -> str:
        return value


def _cell(value) -> str:
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(_FORMULA_START) else text


def _line(writer, row: tuple) -> str:
    created_at, tenant, actor, action, outcome, target, latency_ms, request_id, details = row
    summary = audit_summary(action=action, actor=actor, target=target, outcome=outcome, details=details)
    cells = (created_at.isoformat(), tenant, actor, action, outcome, summary, target, latency_ms, request_id)
    return writer.writerow([_cell(value) for value in cells])


def audit_csv_lines(queryset) -> Iterator[str]:
    writer = csv.writer(_Line())
    yield writer.writerow(HEADER)
    for row in queryset.values_list(*_FIELDS).iterator(chunk_size=CHUNK_ROWS):
        yield _line(writer, row)


async def audit_csv_lines_async(queryset) -> AsyncIterator[str]:
    # Not QuerySet.aiterator(): for values_list() it opens the cursor on the event loop, which Django refuses.
    lines = audit_csv_lines(queryset)
    next_chunk = sync_to_async(lambda: "".join(islice(lines, CHUNK_ROWS)), thread_sensitive=True)
    while chunk := await next_chunk():
        yield chunk


def audit_csv_response(request, queryset) -> StreamingHttpResponse:
    lines = audit_csv_lines_async(queryset) if isinstance(request, ASGIRequest) else audit_csv_lines(queryset)
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    name = f"audit-{timezone.now():%Y%m%dT%H%M%S}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "no-store"
    return response
