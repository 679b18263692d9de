"""OpenTelemetry traces, exported by OTLP/HTTP when OTEL_EXPORTER_OTLP_ENDPOINT (or the traces-only
OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) is set, and off otherwise.

The MCP SDK's own middleware opens one server span per request ("tools/call kv_set"); `stage()` adds a child
span per enforcement stage inside it. When tracing is off, `stage()` is a shared no-op context manager, so an
untraced call pays nothing for it.
"""

import contextlib
import os

from opentelemetry import trace

_tracer = trace.get_tracer("controlplane")
_enabled = False
_NOTHING = contextlib.nullcontext()


def tracing_enabled() -> bool:
    return _enabled


def configure_tracing() -> None:
    """Install an exporting tracer provider once per process when an OTLP endpoint is configured."""
    global _enabled
    if _enabled or not (
        os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    ):
        return
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    # The exporter and the resource read the standard OTEL_* variables (headers, timeout, service name).
    provider = TracerProvider(resource=Resource.create({"service.name": os.environ.get("OTEL_SERVICE_NAME", "controlplane")}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    _enabled = True


def stage(name: str, **attributes):
    """A child span for one stage of a governed call (no-op while tracing is off)."""
    if not _enabled:
        return _NOTHING
    return _tracer.start_as_current_span(name, attributes=attributes)


def annotate(**attributes) -> None:
    """Attributes on the current span (the SDK's request span, or the innermost stage); None values are left out."""
    trace.get_current_span().set_attributes({k: v for k, v in attributes.items() if v is not None})
