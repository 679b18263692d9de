"""Prometheus counters of policy resolution."""

from prometheus_client import Counter

POLICY_CACHE_LOOKUPS = Counter(
    "controlplane_policy_cache_lookups",
    "Principal lookups by API key digest: served from the cache (hit) or rebuilt from the database (miss).",
    ["result"],
)
POLICY_CACHE_HIT = POLICY_CACHE_LOOKUPS.labels("hit")
POLICY_CACHE_MISS = POLICY_CACHE_LOOKUPS.labels("miss")
