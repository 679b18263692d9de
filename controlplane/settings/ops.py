from controlplane.settings.env import env

# Bearer token a Prometheus scrape of /metrics must send; empty = only scrapes from a loopback address.
METRICS_BEARER_TOKEN = env.str("METRICS_BEARER_TOKEN", default="")
