"""/healthz (the process answers) and /readyz (its dependencies answer): unauthenticated by design, so they
name components only, no hostnames, versions or error texts. /metrics: Prometheus, token or loopback only."""

import logging

from django.http import HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from controlplane.ops.health import readiness
from controlplane.ops.metrics import FORWARDING_HEADERS, render_metrics, scrape_allowed

logger = logging.getLogger(__name__)
# Probes come every few seconds: log when the set of failing components changes, not on every probe.
_last_failing: frozenset[str] = frozenset()


@never_cache
@require_GET
def healthz(request):
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def readyz(request):
    results = readiness()
    ready = all(result.ok for result in results)
    checks = {}
    for result in results:
        entry = {"status": "ok" if result.ok else "down", "latency_ms": result.latency_ms}
        if not result.ok:
            entry["error"] = result.error
        checks[result.name] = entry
    _log_transition(frozenset(f"{r.name} {r.error}" for r in results if not r.ok))
    response = JsonResponse({"status": "ready" if ready else "unavailable", "checks": checks}, status=200 if ready else 503)
    if not ready:
        response["Retry-After"] = "5"
        # Logged above once per change; Django would otherwise log every probe's 503 as an error.
        response._has_been_logged = True
    return response


def _log_transition(failing: frozenset[str]) -> None:
    global _last_failing
    if failing != _last_failing:
        if failing:
            logger.warning("Not ready: %s", ", ".join(sorted(failing)))
        else:
            logger.warning("Ready again")
        _last_failing = failing


@never_cache
@require_GET
def metrics(request):
    if not scrape_allowed(
        authorization=request.headers.get("Authorization", ""),
        remote_addr=request.META.get("REMOTE_ADDR", ""),
        forwarded=any(header in request.headers for header in FORWARDING_HEADERS),
    ):
        return JsonResponse(
            {
                "detail": "Scraping /metrics needs the METRICS_BEARER_TOKEN bearer token "
                "(or a direct loopback connection)."
            },
            status=403,
        )
    return HttpResponse(render_metrics(), content_type="text/plain; version=0.0.4; charset=utf-8")
