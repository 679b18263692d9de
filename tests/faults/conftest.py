from tests.faults.redis_server import redis_server  # noqa: F401  (fixture)
