"""A throwaway `redis-server` on a free loopback port, with no persistence, that a test or a fault script can
kill, restart, stall (SIGSTOP) and resume: the faults a shared Redis really has."""

import os
import shutil
import signal
import socket
import subprocess
import time

import pytest
import redis


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RedisServer:
    def __init__(self):
        if shutil.which("redis-server") is None:
            raise RuntimeError("redis-server is not installed (Debian: apt-get install redis-server).")
        self.port = free_port()
        self.process: subprocess.Popen | None = None
        self.start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--loglevel", "warning"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis(port=self.port, socket_connect_timeout=1)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                return
            except redis.RedisError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"redis-server did not start on port {self.port}") from None
                time.sleep(0.05)

    def kill(self) -> None:
        """An outage: the server is gone and connections are refused."""
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGCONT)
            self.process.kill()
            self.process.wait()

    def pause(self) -> None:
        """A stall: connections are accepted but nothing is answered until resume()."""
        os.kill(self.process.pid, signal.SIGSTOP)

    def resume(self) -> None:
        os.kill(self.process.pid, signal.SIGCONT)

    def close(self) -> None:
        self.kill()


@pytest.fixture
def redis_server():
    server = RedisServer()
    yield server
    server.close()


@pytest.fixture
def redis_rate_limits(redis_server):
    """The API and OAuth rate limits kept in this throwaway redis-server (which a test can stop and start)."""
    from django.test.utils import override_settings

    from tenants.api import ratelimit

    original = ratelimit._limiter
    with override_settings(API_RATE_LIMIT_STORAGE_URL=redis_server.url):
        ratelimit._limiter = None  # built again from the setting on first use
        yield redis_server
    ratelimit._limiter = original
