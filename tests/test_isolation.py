"""The test run owns its world: nothing it writes lands in the checkout's var/, and its Redis databases are
claimed for this run alone."""

import os
from pathlib import Path

import redis
from django.conf import settings

from tests.dataplane.conftest import TEST_REDIS_URL as CELERY_REDIS_URL
from tests.mcp.conftest import TEST_REDIS_URL as MCP_REDIS_URL

CHECKOUT_VAR = Path(__file__).resolve().parents[1] / "var"


def test_test_run_writes_outside_the_checkouts_var_directory():
    assert Path(os.environ["CONTROLPLANE_VAR_DIR"]).resolve() != CHECKOUT_VAR
    assert not Path(settings.DATAPLANE_LOCAL_ROOT).resolve().is_relative_to(CHECKOUT_VAR)
    test_db = settings.DATABASES["default"].get("TEST", {}).get("NAME")
    if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        assert not Path(test_db).resolve().is_relative_to(CHECKOUT_VAR)


def test_redis_databases_are_claimed_by_this_run_and_distinct():
    assert MCP_REDIS_URL != CELERY_REDIS_URL
    admin = redis.Redis.from_url(MCP_REDIS_URL.rsplit("/", 1)[0] + "/0")
    for url in (MCP_REDIS_URL, CELERY_REDIS_URL):
        index = int(url.rsplit("/", 1)[1])
        assert index not in (0, 1, 2), "databases a running instance may use are never taken"
        assert admin.get(f"controlplane-tests:claim:{index}") is not None
