"""Events drained per second: PutEvents batches of 10 vs one PutEvents per event, same run, same bus (moto).

Run: python bench/dataplane_outbox_drain.py [events]
"""

import sys
import time

from dataplane_common import aws_settings, moto, principal

from mcpbridge.dataplane.aws.bootstrap import bootstrap_all
from mcpbridge.models import OutboxEvent
from mcpbridge.services import outbox
from mcpbridge.services.events import event_send


def run(p, n, batch):
    for i in range(n):
        event_send(principal=p, detail_type="bench", detail={"i": i})
    outbox.PUT_EVENTS_MAX_ENTRIES = batch
    t = time.perf_counter()
    while OutboxEvent.objects.filter(status=OutboxEvent.Status.PENDING).exists():
        outbox.outbox_drain()
    return n / (time.perf_counter() - t)


def main(n: int):
    server, endpoint = moto()
    try:
        with aws_settings(endpoint):
            bootstrap_all()
            p = principal(events_per_month=10_000_000)
            # The eager drain after each send is what a deployment without a broker does; here we drain explicitly.
            outbox.enqueue_on_commit = lambda *a, **k: None
            single = run(p, n, 1)
            batched = run(p, n, 10)
    finally:
        server.stop()
    print(f"Outbox drain to EventBridge (moto), {n} events each")
    print(f"one PutEvents per event: {single:8.1f} events/s")
    print(f"batches of 10:           {batched:8.1f} events/s")
    print(f"batching speed-up:       {batched / single:8.1f}x")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 500)
