"""Fault injection: EventBridge unreachable on the embedded default (no broker), then back.

    python bench/fault_eventbridge.py [--before 20] [--during 50] [--outage 6]

moto's server runs in this process behind a TCP relay that `runmcp --transport http` (aws data plane, no
CELERY_BROKER_URL) uses as its AWS endpoint; the outage is the relay refusing every connection, so moto
keeps its state. The SDK client sends events before and during the outage; after the relay is restored no
client sends anything more. Prints events accepted vs delivered (read from an SQS queue subscribed to the
bus), the slowest events_send, and what was lost (must be 0).
"""

import argparse
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_DEFAULT_REGION": "us-east-1"}


class Relay:
    """A TCP relay to `target` that can be switched off: while down, it accepts and closes at once."""

    def __init__(self, target: tuple[str, int]):
        self.target = target
        self.down = threading.Event()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            client, _ = self.listener.accept()
            if self.down.is_set():
                client.close()
                continue
            try:
                upstream = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    def _pipe(self, source, sink):
        try:
            while not self.down.is_set():
                data = source.recv(65536)
                if not data:
                    break
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--before", type=int, default=20)
    parser.add_argument("--during", type=int, default=50)
    parser.add_argument("--outage", type=float, default=6.0, help="seconds the bus stays unreachable")
    args = parser.parse_args()
    for name, value in CREDENTIALS.items():
        os.environ.setdefault(name, value)
    sys.path.insert(0, str(ROOT / "bench"))
    from support import setup_django

    work = setup_django("fault-eventbridge-")
    import anyio
    from django.conf import settings
    from django.test.utils import override_settings
    from moto.server import ThreadedMotoServer

    from mcpbridge.dataplane.aws.bootstrap import bootstrap_all
    from tenants.services import tenant_limit_set
    from tests.dataplane.aws import drain_queue, observe_bus
    from tests.factories import ACTOR, make_key, make_member, make_tenant

    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    moto_url = "http://%s:%d" % moto.get_host_and_port()
    relay = Relay(moto.get_host_and_port())
    with override_settings(DATAPLANE_BACKEND="aws", AWS_ENDPOINT_URL=moto_url):
        bootstrap_all()
    queue = observe_bus(settings.AWS_EVENT_BUS_NAME, "fault-bench", moto_url, source_prefix="mcp.")
    membership = make_member(make_tenant(), "admin")
    for limit in ("requests_per_minute", "max_concurrent_requests", "events_per_month", "events_per_minute"):
        try:
            tenant_limit_set(tenant=membership.tenant, limit=limit, value=10_000_000, actor=ACTOR)
        except Exception:  # a limit this version does not have
            pass
    raw = make_key(membership)[1]
    env = {
        **os.environ, **CREDENTIALS,
        "API_KEY_HMAC_KEY": settings.API_KEY_HMAC_KEY, "DJANGO_SECRET_KEY": settings.SECRET_KEY,
        "CONTROLPLANE_VAR_DIR": str(work), "LOG_LEVEL": "WARNING",
        "DATAPLANE_BACKEND": "aws", "AWS_ENDPOINT_URL": f"http://127.0.0.1:{relay.port}",
        "AWS_MAX_ATTEMPTS": "1", "AWS_CONNECT_TIMEOUT": "1", "AWS_READ_TIMEOUT": "2",
        "EVENTS_OUTBOX_BACKOFF_BASE": "0.5", "EVENTS_OUTBOX_BACKOFF_MAX": "2",
    }
    for name in ("REDIS_URL", "CELERY_BROKER_URL"):
        env.pop(name, None)
    process = subprocess.Popen(
        [sys.executable, "manage.py", "runmcp", "--transport", "http", "--port", "0"], cwd=ROOT, env=env,
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    url = _listening_url(process)
    answers, latencies, accepted = Counter(), {"before": [], "during": []}, []

    async def drive():
        import httpx2
        from mcp import Client
        from mcp.client.streamable_http import streamable_http_client
        from mcp.shared.exceptions import MCPError

        async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {raw}"}, timeout=60) as http:
            async with Client(streamable_http_client(f"{url}/mcp", http_client=http), mode="legacy", cache=None) as client:
                for phase, count in (("before", args.before), ("during", args.during)):
                    if phase == "during":
                        relay.down.set()
                        outage_started = time.monotonic()
                    for i in range(count):
                        started = time.perf_counter()
                        try:
                            result = await client.call_tool("events_send", {"detail_type": f"{phase}.{i}", "detail": {"i": i}})
                        except MCPError as exc:
                            answers[f"JSON-RPC {exc.code}"] += 1
                            continue
                        latencies[phase].append((time.perf_counter() - started) * 1000)
                        if result.is_error:
                            answers["tool error"] += 1
                        else:
                            answers["result"] += 1
                            accepted.append(result.structured_content["event_id"])
                # Keep the bus down for the rest of the outage, then restore it; no client request follows.
                await anyio.sleep(max(0.0, args.outage - (time.monotonic() - outage_started)))
                relay.down.clear()

    try:
        anyio.run(drive)
        restored = time.monotonic()
        delivered: set[str] = set()
        while time.monotonic() - restored < 90 and not set(accepted) <= delivered:
            delivered |= {event["detail"]["eventId"] for event in drain_queue(queue, moto_url)}
            time.sleep(0.5)
        took = time.monotonic() - restored
    finally:
        process.terminate()
        process.wait(15)
        moto.stop()
    lost = len(set(accepted) - delivered)
    print(f"EventBridge unreachable for {args.outage:g} s (relay refusing connections); embedded default, no broker")
    print(f"events_send calls {args.before + args.during}: " + ", ".join(f"{k} {v}" for k, v in sorted(answers.items())))
    for phase, values in latencies.items():
        if values:
            print(f"  events_send {phase} the outage: p50 {statistics.median(values):.1f} ms, max {max(values):.1f} ms")
    print(f"events accepted {len(accepted)}, delivered {len(set(accepted) & delivered)} "
          f"({took:.1f} s after the bus came back, with no further client request)")
    print(f"LOST EVENTS: {lost}   RAW 500s: 0 (no HTTP errors: the SDK client would have raised)")
    return 0 if lost == 0 else 1


def _listening_url(process) -> str:
    import re

    lines = []
    for line in process.stderr:
        lines.append(line)
        match = re.search(r"listening on (http://\S+)/mcp", line)
        if match:
            threading.Thread(target=lambda: [None for _ in process.stderr], daemon=True).start()
            return match.group(1)
    raise RuntimeError("runmcp did not start:\n" + "".join(lines))


if __name__ == "__main__":
    sys.exit(main())
