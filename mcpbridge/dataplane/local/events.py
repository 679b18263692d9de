import json
import time

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F

from mcpbridge.dataplane.ports import EntryResult
from mcpbridge.models import LocalDeliveredEvent


class LocalEventBus:
    """Delivery means a row in LocalDeliveredEvent: observable in the admin and in tests."""

    def put_events(self, entries):
        assert 1 <= len(entries) <= 10, "PutEvents takes 1 to 10 entries"
        delay = settings.DATAPLANE_LOCAL_EVENTS_DELAY
        if delay:
            time.sleep(delay)  # stands in for a remote bus's latency (demos and crash tests)
        results = []
        for entry in entries:
            fields = {
                "bus": entry.bus,
                "source": entry.source,
                "detail_type": entry.detail_type,
                "detail": json.loads(entry.detail_json),
            }
            try:
                with transaction.atomic():
                    LocalDeliveredEvent.objects.create(event_id=entry.event_id, **fields)
            except IntegrityError:
                LocalDeliveredEvent.objects.filter(event_id=entry.event_id).update(deliveries=F("deliveries") + 1)
            results.append(EntryResult(entry.event_id))
        return results
