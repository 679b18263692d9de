"""Traces and logs of a real `runmcp` process: OTLP spans per tool call with one child span per pipeline stage, and
JSON log lines carrying the request id, tenant and tool."""

import json
import socket
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import anyio
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from tests.mcp.conftest import ROOT, server_env, stdio_client
from tests.mcp.helpers import expect_error, member_key

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

STAGES = ["authenticate", "authorize", "validate", "rate_limit", "capacity", "execute"]


class OtlpReceiver:
    """A minimal OTLP/HTTP trace collector on loopback: keeps every exported span."""

    def __init__(self):
        self.spans = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                request = ExportTraceServiceRequest()
                request.ParseFromString(body)
                for resource_spans in request.resource_spans:
                    for scope_spans in resource_spans.scope_spans:
                        receiver.spans.extend(scope_spans.spans)
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self):
        self.server.shutdown()


@pytest.fixture
def otlp():
    receiver = OtlpReceiver()
    yield receiver
    receiver.close()


def _attributes(span) -> dict:
    return {a.key: a.value.string_value or a.value.int_value for a in span.attributes}


def test_each_tool_call_is_a_span_with_its_pipeline_stages(mcp_db, otlp):
    membership, _, raw = member_key("user")

    async def main():
        async with stdio_client(raw, OTEL_EXPORTER_OTLP_ENDPOINT=otlp.url, OTEL_BSP_SCHEDULE_DELAY="50") as client:
            assert not (await client.call_tool("kv_set", {"key": "a", "value": "1"})).is_error
            await expect_error(client.call_tool("secrets_put", {"name": "n", "value": "v"}), -32602)  # hidden

    anyio.run(main)  # the server flushes its spans when stdin closes
    calls = {s.name: s for s in otlp.spans if s.name.startswith("tools/call")}
    assert set(calls) == {"tools/call kv_set", "tools/call secrets_put"}
    kv_set = calls["tools/call kv_set"]
    children = [s for s in otlp.spans if s.parent_span_id == kv_set.span_id]
    assert sorted(s.name for s in children) == sorted(STAGES)
    assert _attributes(kv_set)["controlplane.tenant_id"] == str(membership.tenant_id)
    assert _attributes(kv_set)["controlplane.outcome"] == "ok"
    refused = calls["tools/call secrets_put"]
    assert _attributes(refused)["controlplane.outcome"] == "denied"
    assert {s.name for s in otlp.spans if s.parent_span_id == refused.span_id} == {"authenticate", "authorize"}
    assert refused.status.code == 2  # STATUS_CODE_ERROR


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_json_logs_carry_request_id_tenant_and_tool(mcp_db):
    membership, _, raw = member_key("user")
    env = server_env(
        CONTROLPLANE_API_KEY=raw,
        LOG_FORMAT="json",
        DATAPLANE_BACKEND="aws",
        AWS_ENDPOINT_URL=f"http://127.0.0.1:{_closed_port()}",  # every AWS call fails, and the tool logs why
        AWS_MAX_ATTEMPTS="1",
        AWS_CONNECT_TIMEOUT="0.5",
    )
    messages = [
        {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "plain", "version": "1"}}},
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": "call-7", "method": "tools/call", "params": {"name": "kv_get", "arguments": {"key": "a"}}},
    ]
    process = subprocess.Popen(
        [sys.executable, "manage.py", "runmcp"], cwd=ROOT, env=env,
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    process.stdin.write("".join(json.dumps(m) + "\n" for m in messages))
    process.stdin.flush()
    answers = []
    while len(answers) < 2:
        answers.append(json.loads(process.stdout.readline()))
    process.stdin.close()
    stderr = process.stderr.read()
    process.wait(15)

    assert answers[1]["id"] == "call-7" and answers[1]["error"]["code"] == -32003
    records = [json.loads(line) for line in stderr.splitlines() if line.strip()]  # every line is one JSON object
    during_call = [r for r in records if r["tool"] == "kv_get"]
    assert during_call, records
    assert during_call[0]["tenant"] == str(membership.tenant_id)
    assert during_call[0]["request_id"] == "call-7"
