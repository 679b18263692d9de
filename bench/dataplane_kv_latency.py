"""KV get/set latency through the services, local adapter vs aws adapter (moto's server on loopback).

Run: python bench/dataplane_kv_latency.py [iterations]
"""

import statistics
import sys
import time

from dataplane_common import aws_settings, moto, principal

from django.test.utils import override_settings

from mcpbridge.dataplane.aws.bootstrap import bootstrap_all
from mcpbridge.services.kv import kv_get, kv_set


def measure(p, n):
    sets, gets = [], []
    for i in range(n):
        t = time.perf_counter()
        kv_set(principal=p, key=f"bench/{i % 100}", value="x" * 256)
        sets.append(time.perf_counter() - t)
        t = time.perf_counter()
        kv_get(principal=p, key=f"bench/{i % 100}")
        gets.append(time.perf_counter() - t)
    return sets, gets


def report(name, samples):
    ms = sorted(s * 1000 for s in samples)
    return f"{name:12s} p50 {statistics.median(ms):7.2f} ms  p95 {ms[int(len(ms) * 0.95)]:7.2f} ms"


def main(n: int):
    p = principal(kv_items=1_000_000)
    with override_settings(DATAPLANE_BACKEND="local"):
        local = measure(p, n)
    server, endpoint = moto()
    try:
        with aws_settings(endpoint):
            bootstrap_all()
            aws = measure(p, n)
    finally:
        server.stop()
    print(f"KV latency over {n} operations each")
    for label, (sets, gets) in (("local", local), ("aws (moto)", aws)):
        print(report(f"{label} set", sets))
        print(report(f"{label} get", gets))
    print(f"aws/local ratio (p50): set {statistics.median(aws[0]) / statistics.median(local[0]):.1f}x, "
          f"get {statistics.median(aws[1]) / statistics.median(local[1]):.1f}x")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 300)
