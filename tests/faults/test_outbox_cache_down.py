"""The outbox drain with its cache (the bus-pause marker) on a Redis that is down: events are still delivered, and
the outage is one log line, not a traceback per drain."""

import pytest
from django.test.utils import override_settings

from mcpbridge.models import OutboxEvent
from mcpbridge.services.events import event_send
from mcpbridge.services.outbox import outbox_drain
from tenants.policy import resolve_api_key
from tests.mcp.helpers import member_key

pytestmark = pytest.mark.django_db


def test_drain_delivers_while_the_cache_is_down_and_logs_the_outage_once(redis_server, settings, caplog):
    settings.DATAPLANE_BACKEND = "local"
    principal = resolve_api_key(member_key("user")[2])
    sent = [event_send(principal=principal, detail_type="cache.down", detail={"n": n})["event_id"] for n in range(3)]
    redis_server.kill()
    cache = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": redis_server.url,
                         "OPTIONS": {"socket_timeout": 2, "socket_connect_timeout": 2}}}
    with override_settings(CACHES=cache):
        for _ in range(3):
            outbox_drain(max_seconds=5)
    delivered = OutboxEvent.objects.filter(event_id__in=sent, status=OutboxEvent.Status.DELIVERED).count()
    assert delivered == 3
    assert sum(" is unavailable (" in r.getMessage() for r in caplog.records) == 1
    assert not any(r.exc_info for r in caplog.records)
