"""A plain HTTP client for Streamable HTTP (httpx2 and a small SSE reader, not the SDK's client), for tests that
need to see the wire: event ids, `retry`, dropped connections, status codes of unknown sessions."""

import itertools
import json
from dataclasses import dataclass, field

import httpx2

PROTOCOL_VERSION = "2025-11-25"


@dataclass
class SseEvent:
    id: str | None = None
    retry: int | None = None
    data: str = ""


def sse_events(lines):
    """Events of an SSE body, one at a time (so a test can stop reading in the middle)."""
    event, data = SseEvent(), []
    for line in lines:
        if line == "":
            if data or event.id is not None:
                event.data = "\n".join(data)
                yield event
            event, data = SseEvent(), []
            continue
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "data":
            data.append(value)
        elif name == "id":
            event.id = value
        elif name == "retry":
            event.retry = int(value)


class SessionGone(Exception):
    """The server answered 404: it does not know this session (the spec's answer; initialize again)."""


class ReplicaLost(Exception):
    """The balancer answered for a replica that went away while it held the request (502/503/504)."""


@dataclass
class WireSession:
    http: httpx2.Client
    url: str
    raw_key: str
    session_id: str | None = None
    ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    def headers(self, **extra) -> dict:
        headers = {
            "Authorization": f"Bearer {self.raw_key}",
            "Accept": "application/json, text/event-stream",
            "Content-Type": "application/json",
            "MCP-Protocol-Version": PROTOCOL_VERSION,
        }
        if self.session_id:
            headers["Mcp-Session-Id"] = self.session_id
        return {**headers, **extra}

    def initialize(self) -> dict:
        self.session_id = None
        body = {
            "jsonrpc": "2.0",
            "id": next(self.ids),
            "method": "initialize",
            "params": {"protocolVersion": PROTOCOL_VERSION, "capabilities": {}, "clientInfo": {"name": "wire"}},
        }
        with self.http.stream("POST", self.url, json=body, headers=self.headers()) as response:
            if response.status_code in (502, 503, 504):
                raise ReplicaLost(response.status_code)
            if response.status_code != 200:
                raise AssertionError(f"initialize answered {response.status_code}: {response.read()!r}")
            self.session_id = response.headers["mcp-session-id"]
            answer = _answer(response)
        note = {"jsonrpc": "2.0", "method": "notifications/initialized"}
        assert self.http.post(self.url, json=note, headers=self.headers()).status_code == 202
        return answer

    def open_call(self, name: str, arguments: dict):
        """Start tools/call and return the streaming response (the caller reads it, or drops it)."""
        body = {"jsonrpc": "2.0", "id": next(self.ids), "method": "tools/call", "params": {"name": name, "arguments": arguments}}
        request = self.http.build_request("POST", self.url, json=body, headers=self.headers())
        response = self.http.send(request, stream=True)
        if response.status_code == 404:
            response.close()
            raise SessionGone(self.session_id)
        if response.status_code in (502, 503, 504):
            response.close()
            raise ReplicaLost(response.status_code)
        return response

    def call(self, name: str, arguments: dict) -> dict:
        response = self.open_call(name, arguments)
        try:
            if response.status_code != 200:
                raise AssertionError(f"tools/call answered {response.status_code}: {response.read()!r}")
            return _answer(response)
        finally:
            response.close()

    def resume(self, last_event_id: str) -> list[SseEvent]:
        """GET with Last-Event-ID: the events the server replays for the stream that event belongs to."""
        headers = self.headers(**{"Last-Event-ID": last_event_id})
        with self.http.stream("GET", self.url, headers=headers) as response:
            assert response.status_code == 200, response.read()
            events = []
            for event in sse_events(response.iter_lines()):
                events.append(event)
                if event.data and "id" in json.loads(event.data):
                    break  # the answer: the replayed stream is complete
            return events


def _answer(response) -> dict:
    """The JSON-RPC answer of a POST (SSE or JSON body)."""
    if response.headers.get("content-type", "").startswith("application/json"):
        return json.loads(response.read())
    for event in sse_events(response.iter_lines()):
        if event.data:
            message = json.loads(event.data)
            if "id" in message:
                return message
    raise AssertionError("the stream ended without an answer")
