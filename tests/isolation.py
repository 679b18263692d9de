"""Loaded by pytest before Django's settings (`-p tests.isolation` in pytest.ini): the test run gets a
throwaway var/ directory and Redis databases of its own, so it never touches what a running `make run`
instance (or another test run on the same machine) uses.

Redis databases are claimed, not guessed: a database is taken only while it is empty, and the claim is a
key with an expiry in database 0 (`SET NX`), so two test runs never share one and a crashed run's claims
lapse by themselves.
"""

import atexit
import os
import shutil
import tempfile

_REDIS = os.environ.get("TEST_REDIS_SERVER", "redis://127.0.0.1:6379")
_CLAIM_SECONDS = 3 * 3600
_CLAIM_KEY = "controlplane-tests:claim:{}"
_CANDIDATE_DATABASES = range(15, 2, -1)


def _throwaway_var_dir() -> None:
    if os.environ.get("CONTROLPLANE_VAR_DIR"):
        return
    path = tempfile.mkdtemp(prefix="controlplane-test-var-")
    os.environ["CONTROLPLANE_VAR_DIR"] = path
    atexit.register(shutil.rmtree, path, ignore_errors=True)


def _claim_redis_databases(names: list[str]) -> None:
    missing = [name for name in names if not os.environ.get(name)]
    if not missing:
        return
    import redis

    try:
        admin = redis.Redis.from_url(f"{_REDIS}/0", socket_connect_timeout=2, socket_timeout=2)
        admin.ping()
    except redis.RedisError:
        return  # tests that need Redis fail with its connection error; the others still run
    token = f"{os.getpid()}@{os.uname().nodename}"
    claimed: list[int] = []
    for index in _CANDIDATE_DATABASES:
        if len(claimed) == len(missing):
            break
        if not admin.set(_CLAIM_KEY.format(index), token, nx=True, ex=_CLAIM_SECONDS):
            continue
        if redis.Redis.from_url(f"{_REDIS}/{index}").dbsize():
            admin.delete(_CLAIM_KEY.format(index))  # someone's data: never ours to flush
            continue
        claimed.append(index)
    for name, index in zip(missing, claimed, strict=False):
        os.environ[name] = f"{_REDIS}/{index}"

    def release():
        for index in claimed:
            try:
                redis.Redis.from_url(f"{_REDIS}/{index}").flushdb()
                if admin.get(_CLAIM_KEY.format(index)) == token.encode():
                    admin.delete(_CLAIM_KEY.format(index))
            except redis.RedisError:
                pass

    atexit.register(release)


_throwaway_var_dir()
_claim_redis_databases(["TEST_REDIS_URL", "TEST_CELERY_REDIS_URL"])
