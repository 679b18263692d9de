"""/healthz and /readyz: unauthenticated, naming components only, 503 while a required dependency is down."""

import json
import socket
import subprocess
import time

import pytest

from controlplane.ops import health

from tests.dataplane.aws import MotoServer


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RedisProcess:
    """A throwaway redis-server on its own port, so stopping it touches nothing else."""

    def __init__(self):
        self.port = _free_port()
        self.process = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self):
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
        )
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=10)


@pytest.fixture
def redis_process():
    server = RedisProcess().start()
    yield server
    if server.process.poll() is None:
        server.stop()


@pytest.fixture(autouse=True)
def fresh_readiness(monkeypatch):
    """These tests change a dependency and probe at once: every probe runs the checks."""
    monkeypatch.setattr(health, "REUSE_SECONDS", 0.0)


def _checks(response) -> dict:
    return json.loads(response.content)["checks"]


def test_healthz_answers_without_touching_dependencies(client):
    response = client.get("/healthz")  # no django_db mark: any database access would raise
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_readyz_on_the_embedded_default_checks_database_and_data_plane(client, settings, tmp_path):
    settings.REDIS_URL = ""
    settings.CELERY_BROKER_URL = ""
    settings.DATAPLANE_LOCAL_ROOT = str(tmp_path / "artifacts")
    response = client.get("/readyz")
    assert response.status_code == 200
    assert set(_checks(response)) == {"database", "dataplane"}
    assert all(check["status"] == "ok" for check in _checks(response).values())


@pytest.mark.django_db
def test_readyz_goes_503_while_redis_is_down_and_back_when_it_returns(client, settings, tmp_path, redis_process):
    settings.REDIS_URL = redis_process.url
    settings.DATAPLANE_LOCAL_ROOT = str(tmp_path / "artifacts")
    assert client.get("/readyz").status_code == 200

    redis_process.stop()
    down = client.get("/readyz")
    assert down.status_code == 503
    assert down["Retry-After"]
    assert _checks(down)["redis"] == {"status": "down", "latency_ms": _checks(down)["redis"]["latency_ms"], "error": "unreachable"}
    assert _checks(down)["database"]["status"] == "ok"
    body = down.content.decode()
    assert str(redis_process.port) not in body and "127.0.0.1" not in body

    redis_process.start()
    assert client.get("/readyz").status_code == 200


@pytest.mark.django_db
def test_readyz_reports_a_missing_aws_data_plane(client, settings):
    from mcpbridge.dataplane.aws.bootstrap import bootstrap_all

    moto = MotoServer().start()
    try:
        moto.reset()
        settings.REDIS_URL = ""
        settings.DATAPLANE_BACKEND = "aws"
        settings.AWS_ENDPOINT_URL = moto.url
        settings.AWS_MAX_ATTEMPTS = 1
        missing = client.get("/readyz")
        assert missing.status_code == 503
        assert _checks(missing)["dataplane"]["status"] == "down"
        assert moto.url not in missing.content.decode()

        bootstrap_all()
        assert client.get("/readyz").status_code == 200
    finally:
        moto.stop()


@pytest.mark.django_db
def test_readyz_checks_a_configured_broker(client, settings, tmp_path):
    settings.REDIS_URL = ""
    settings.DATAPLANE_LOCAL_ROOT = str(tmp_path / "artifacts")
    settings.CELERY_BROKER_URL = f"amqp://guest:guest@127.0.0.1:{_free_port()}//"  # nothing listens there
    response = client.get("/readyz")
    assert response.status_code == 503
    assert _checks(response)["broker"]["status"] == "down"


@pytest.mark.django_db
def test_a_flood_of_probes_runs_the_checks_once_a_second(client, settings, tmp_path, monkeypatch):
    """/readyz is open to anyone and each run opens a Redis and a broker connection and reads the data plane:
    a flood of probes must not turn into a flood of connections to the dependencies every tenant shares."""
    settings.REDIS_URL = ""
    settings.CELERY_BROKER_URL = ""
    settings.DATAPLANE_LOCAL_ROOT = str(tmp_path / "artifacts")
    monkeypatch.setattr(health, "REUSE_SECONDS", 1.0)
    monkeypatch.setattr(health, "_last_run", None)
    runs = []
    real = health.check_database
    monkeypatch.setattr(health, "check_database", lambda: runs.append(1) or real())
    started, probes = time.monotonic(), 0
    while time.monotonic() - started < 0.8 and probes < 50:
        assert client.get("/readyz").status_code == 200
        probes += 1
    assert probes > 5 and len(runs) == 1
    time.sleep(1.05)
    assert client.get("/readyz").status_code == 200
    assert len(runs) == 2
