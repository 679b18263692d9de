"""EventBridge PutEvents: up to 10 entries per call, per-entry results."""

from mcpbridge.dataplane.aws.clients import client
from mcpbridge.dataplane.aws.errors import translated
from mcpbridge.dataplane.ports import EntryResult


class EventBridgeBus:
    def put_events(self, entries):
        assert 1 <= len(entries) <= 10, "PutEvents takes 1 to 10 entries"
        request = [
            {"Source": e.source, "DetailType": e.detail_type, "Detail": e.detail_json, "EventBusName": e.bus}
            for e in entries
        ]
        with translated("PutEvents"):
            response = client("events").put_events(Entries=request)
        results = []
        for entry, outcome in zip(entries, response.get("Entries", [])):
            results.append(EntryResult(entry.event_id, outcome.get("ErrorCode", ""), outcome.get("ErrorMessage", "")))
        # A response shorter than the request would be a bug on the other side: retry what is unaccounted for.
        results.extend(EntryResult(e.event_id, "MissingResult", "no result returned") for e in entries[len(results):])
        return results
